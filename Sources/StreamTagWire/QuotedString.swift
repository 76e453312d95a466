// How messages and encoders show a string: shared by the wire, the key files and the
// configuration errors.

extension String {
    /// The value as an error message shows it: in double quotes, with quotes, backslashes and
    /// control characters escaped, so that an empty or blank value is still visible.
    package var quotedForMessage: String {
        doubleQuoted(escapingCarriageReturn: true) { "\\u{\(String($0, radix: 16))}" }
    }

    /// The string in double quotes with `"`, `\`, newline, tab (and optionally carriage return)
    /// escaped; other control characters written by `control`.
    package func doubleQuoted(escapingCarriageReturn: Bool, control: (UInt32) -> String) -> String {
        var out = "\""
        for scalar in unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r" where escapingCarriageReturn: out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += control(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
