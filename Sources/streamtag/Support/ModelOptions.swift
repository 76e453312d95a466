import ArgumentParser
import StreamTagCore

/// `--model PATH` (default: the built-in model) and `--precision`.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model file (safetensors). Default: the built-in English UPOS model.")
    var model: String?

    @Option(name: .long, help: "Recurrent weight precision: fp32 or bf16.")
    var precision: Model.Precision = .fp32

    func load() throws -> Model {
        try loadModel(path: model, precision: precision)
    }
}

/// The model file at `path`, or the built-in model when `path` is nil; a failure is a usage
/// error naming the problem.
func loadModel(path: String?, precision: Model.Precision) throws -> Model {
    let result: Result<Model, ModelError>
    if let path {
        result = Result { () throws(ModelError) in try Model(path: path, precision: precision) }
    } else {
        result = Result { () throws(ModelError) in try BuiltinModel.load(precision: precision) }
    }
    switch result {
    case .success(let loaded): return loaded
    case .failure(let error): throw ValidationError("cannot load model \(path == nil ? "(built-in) " : "")\(error.description)")
    }
}

extension Model.Precision: ExpressibleByArgument {}

/// Writes to standard error (progress, warnings), unbuffered.
func printError(_ text: String, terminator: String = "\n") {
    FileHandleStream.standardError.write(text + terminator)
}
