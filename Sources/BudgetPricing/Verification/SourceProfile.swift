// A price source as the verifier sees it: its name, weight and lineage.
import Foundation

/// How much a source counts in verification. `lineage` names the source it copies from
/// (tokencost copies LiteLLM): all sources of one lineage count once, as one independent source.
public struct SourceProfile: Sendable, Hashable, Codable {
    public var name: String
    /// Relative trust; only ratios matter. Must be positive.
    public var weight: Decimal
    /// The source this one is derived from, if any (its lineage root is then that source's root).
    public var lineage: String?

    public init(name: String, weight: Decimal, lineage: String? = nil) {
        self.name = name
        self.weight = weight
        self.lineage = lineage
    }

    /// Starting weights, to be tuned by freshness (CROSSCHECK §6): LiteLLM is the primary and
    /// the most complete; genai-prices models dated and time-of-day prices; Portkey and Langfuse
    /// are maintained by vendors that bill by them; llm-prices is hand-curated and lags
    /// (o3 still at $10/$40); OpenRouter is a reseller. tokencost is a frozen LiteLLM copy.
    public static let defaults: [SourceProfile] = [
        SourceProfile(name: "litellm", weight: Decimal(string: "0.30")!),
        SourceProfile(name: "genai_prices", weight: Decimal(string: "0.20")!),
        SourceProfile(name: "portkey", weight: Decimal(string: "0.15")!),
        SourceProfile(name: "langfuse", weight: Decimal(string: "0.15")!),
        SourceProfile(name: "llm_prices", weight: Decimal(string: "0.10")!),
        SourceProfile(name: "openrouter", weight: Decimal(string: "0.10")!),
        SourceProfile(name: "tokencost", weight: Decimal(string: "0.05")!, lineage: "litellm"),
    ]
}
