// One source's statement about one model's prices, with the raw entry it came from.
import Foundation

/// What one price source says about one model: the names as the source wrote them, the
/// canonical key, per-token USD prices, and the source's entry verbatim (for JSONB storage and
/// audit).
public struct PriceObservation: Sendable, Hashable {
    /// The configured source name, e.g. `litellm`, `tokencost` (which reuses LiteLLM's format).
    public var source: String
    public var format: PriceSourceFormat
    /// The provider as the source states it (`litellm_provider`, genai provider id, Portkey file
    /// name, llm-prices vendor); nil when the source states none (Langfuse).
    public var rawProvider: String?
    /// The model as the source names it (entry key, id, or `match` alternative).
    public var rawModel: String
    public var canonical: CanonicalModel
    public var prices: PriceSet
    /// The source's entry as compact JSON text, numbers exactly as written.
    public var rawEntry: String

    public init(source: String, format: PriceSourceFormat, rawProvider: String?, rawModel: String,
                canonical: CanonicalModel, prices: PriceSet, rawEntry: String) {
        self.source = source
        self.format = format
        self.rawProvider = rawProvider
        self.rawModel = rawModel
        self.canonical = canonical
        self.prices = prices
        self.rawEntry = rawEntry
    }

    public var key: CanonicalModelKey { canonical.key }

    public var input: Decimal? { prices.input }
    public var output: Decimal? { prices.output }
    public var cacheRead: Decimal? { prices.cacheRead }
    public var cacheWrite: Decimal? { prices.cacheWrite }
    public var reasoning: Decimal? { prices.reasoning }
    public var batchInput: Decimal? { prices.batchInput }
    public var batchOutput: Decimal? { prices.batchOutput }
    public var contextTiers: [ContextTierPrice] { prices.contextTiers }
}
