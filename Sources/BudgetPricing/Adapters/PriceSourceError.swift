// Why a whole catalogue document was rejected.

/// A document-level failure: nothing from the document should be used.
public enum PriceSourceError: Error, Sendable, Hashable {
    /// The bytes are not JSON.
    case invalidJSON(ExactJSONError)
    /// The JSON is not the source's shape; `path` says where (e.g. `$.data`), `expected` what.
    case unexpectedShape(path: String, expected: String, found: String)
    /// A per-provider format (Portkey) was parsed without naming the provider.
    case providerRequired(PriceSourceFormat)
}
