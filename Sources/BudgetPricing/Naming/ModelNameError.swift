// Why a (provider, model) pair could not be normalised.

public enum ModelNameError: Error, Sendable, Hashable {
    /// The model name is empty after trimming.
    case emptyModel
    /// No provider was given and none can be inferred from the name.
    case unknownProvider(model: String)
}
