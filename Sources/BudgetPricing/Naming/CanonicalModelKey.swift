// The identity under which a price is stored: serving provider, canonical model and pricing region.

/// Canonical (provider, model) key. `provider` is who serves and bills the call (CROSSCHECK:
/// the same model costs different amounts on Groq, Together, Bedrock, …), `model` is the
/// normalised model name.
///
/// `region` is an extra qualifier for deployments that the provider bills differently:
/// Bedrock cross-region inference profiles (`us.`, `eu.`, `jp.` cost 10% more than `global.`
/// and the bare id for Claude Sonnet 4.5) and Azure data zones (`azure/eu/gpt-4o` $2.75/$11
/// against $2.5/$10). The region is stripped from the model name, as every source spells it
/// differently, but kept here so those prices are never merged. Nil for ordinary deployments.
public struct CanonicalModelKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let provider: String
    public let model: String
    public let region: String?

    public init(provider: String, model: String, region: String? = nil) {
        self.provider = provider
        self.model = model
        self.region = region
    }

    public var description: String {
        if let region { return "\(provider)[\(region)]/\(model)" }
        return "\(provider)/\(model)"
    }

    /// The provider a price is stored under: the provider itself, or for a regional variant the
    /// provider with the region in brackets, as `description` writes it (`bedrock[us]`), so that
    /// the variant's price is a price row of its own and never the provider's ordinary one.
    public var storedProvider: String {
        region.map { "\(provider)[\($0)]" } ?? provider
    }

    /// The key of a price stored under `storedProvider` and `model`.
    public init(storedProvider: String, model: String) {
        if storedProvider.hasSuffix("]"), let open = storedProvider.firstIndex(of: "["), open > storedProvider.startIndex {
            let region = storedProvider[storedProvider.index(after: open)..<storedProvider.index(before: storedProvider.endIndex)]
            if !region.isEmpty {
                self.init(provider: String(storedProvider[..<open]), model: model, region: String(region))
                return
            }
        }
        self.init(provider: storedProvider, model: model)
    }

    public static func < (lhs: CanonicalModelKey, rhs: CanonicalModelKey) -> Bool {
        (lhs.provider, lhs.model, lhs.region ?? "") < (rhs.provider, rhs.model, rhs.region ?? "")
    }
}
