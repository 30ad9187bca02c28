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

    public static func < (lhs: CanonicalModelKey, rhs: CanonicalModelKey) -> Bool {
        (lhs.provider, lhs.model, lhs.region ?? "") < (rhs.provider, rhs.model, rhs.region ?? "")
    }
}
