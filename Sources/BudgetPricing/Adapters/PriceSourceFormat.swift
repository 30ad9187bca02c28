// The catalogue formats Budget can read, with their stored names.
import Foundation

/// A price catalogue's file format. Raw values are the names stored in the database.
public enum PriceSourceFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case litellm
    case llmPrices = "llm_prices"
    case genaiPrices = "genai_prices"
    case langfuse
    case portkey
    case openrouter

    /// Where the service fetches the catalogue (README of the fixtures). Portkey has one file per
    /// provider: substitute `{provider}`.
    public var liveURL: String {
        switch self {
        case .litellm: "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
        case .llmPrices: "https://www.llm-prices.com/current-v1.json"
        case .genaiPrices: "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json"
        case .langfuse: "https://raw.githubusercontent.com/langfuse/langfuse/main/worker/src/constants/default-model-prices.json"
        case .portkey: "https://configs.portkey.ai/pricing/{provider}.json"
        case .openrouter: "https://openrouter.ai/api/v1/models"
        }
    }

    /// An adapter with default settings. `evaluatedAt` selects dated and time-of-day prices
    /// (genai-prices, llm-prices history); it is an input, never read from a clock here.
    public func adapter(sourceName: String? = nil, evaluatedAt: Date,
                        normaliser: ModelNormaliser = ModelNormaliser()) -> any PriceSourceAdapter {
        let name = sourceName ?? rawValue
        switch self {
        case .litellm: return PriceSource.LiteLLM(sourceName: name, normaliser: normaliser)
        case .llmPrices: return PriceSource.LLMPrices(sourceName: name, evaluatedAt: evaluatedAt, normaliser: normaliser)
        case .genaiPrices: return PriceSource.GenAIPrices(sourceName: name, evaluatedAt: evaluatedAt, normaliser: normaliser)
        case .langfuse: return PriceSource.Langfuse(sourceName: name, normaliser: normaliser)
        case .portkey: return PriceSource.Portkey(sourceName: name, normaliser: normaliser)
        case .openrouter: return PriceSource.OpenRouter(sourceName: name, normaliser: normaliser)
        }
    }
}
