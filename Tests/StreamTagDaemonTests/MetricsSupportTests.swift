import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The helpers check themselves: a parser that accepted anything would make every metrics
/// assertion meaningless.
@Suite struct MetricsSupportTests {
    @Test func expositionParserAcceptsTheFormatAndRejectsBrokenText() throws {
        let good = """
            # HELP a_total Things.
            # TYPE a_total counter
            a_total{code="x",other="q\\"uote"} 3
            # TYPE h histogram
            h_bucket{le="0.5"} 1
            h_bucket{le="+Inf"} 2
            h_sum 0.75
            h_count 2
            # TYPE g gauge
            g 1.5e3

            """
        let e = try Exposition(good)
        #expect(e.value("a_total", ["code": "x", "other": "q\"uote"]) == 3)
        #expect(e.value("h_bucket", ["le": "+Inf"]) == 2)
        #expect(e.value("h_count") == 2)
        #expect(e.value("g") == 1500)
        #expect(e.types["h"] == "histogram")
        for bad in ["x 1\n", "# TYPE x counter\nx\n", "# TYPE x counter\nx{a=1} 2\n", "# TYPE x counter\nx one\n",
                    "# TYPE x gauge\nx_count 1\n", "# TYPE x counter\n# TYPE x counter\n"] {
            #expect(throws: Exposition.Failure.self, "\(bad)") { try Exposition(bad) }
        }
    }
}
