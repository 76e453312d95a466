import ArgumentParser
import StreamTagCore

/// `--model PATH` (default: the built-in model) and `--precision`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model file (safetensors). Default: the built-in English UPOS model.")
    var model: String?

    @Option(name: .long, help: "Recurrent weight precision: fp32 or bf16.")
    var precision: Model.Precision = .fp32

    func load() throws -> Model {
        do {
            if let model { return try Model(path: model, precision: precision) }
            return try BuiltinModel.load(precision: precision)
        } catch let error as ModelError {
            throw ValidationError("cannot load model \(model ?? "(built-in)"): \(error.message)")
        }
    }
}

extension Model.Precision: ExpressibleByArgument {}

/// Writes to standard error (progress, warnings), unbuffered.
func printError(_ text: String, terminator: String = "\n") {
    FileHandleStream.standardError.write(text + terminator)
}
