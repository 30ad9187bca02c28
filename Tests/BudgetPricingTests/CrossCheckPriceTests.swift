// Pins exact parsed prices for CROSSCHECK.md's models, source by source, against its tables.
import Foundation
import Testing
import BudgetPricing

@Suite("CROSSCHECK prices")
struct CrossCheckPriceTests {
    /// One cell pair (input, output, USD per 1M) of CROSSCHECK.md's price tables.
    struct PinnedPrice: Sendable, CustomStringConvertible {
        let source: String
        let key: CanonicalModelKey
        let input: String
        let output: String
        var description: String { "\(source) \(key) \(input)/\(output)" }

        init(_ source: String, _ provider: String, _ model: String, _ input: String, _ output: String) {
            self.source = source
            self.key = CanonicalModelKey(provider: provider, model: model)
            self.input = input
            self.output = output
        }
    }

    /// 92 cells from CROSSCHECK.md covering 46 of its 53 models and every adapter. Sources without a dated key are
    /// looked up under the name they use (llm-prices `claude-3.5-sonnet` → `claude-3-5-sonnet`).
    static let pinned: [PinnedPrice] = [
        // OpenAI
        PinnedPrice("litellm", "openai", "gpt-4o", "2.5", "10"), PinnedPrice("langfuse", "openai", "gpt-4o", "2.5", "10"),
        PinnedPrice("llm_prices", "openai", "gpt-4o", "2.5", "10"), PinnedPrice("genai_prices", "openai", "gpt-4o", "2.5", "10"),
        PinnedPrice("portkey", "openai", "gpt-4o", "2.5", "10"), PinnedPrice("openrouter", "openai", "gpt-4o", "2.5", "10"),
        PinnedPrice("litellm", "openai", "gpt-4o-mini", "0.15", "0.6"), PinnedPrice("portkey", "openai", "gpt-4o-mini", "0.15", "0.6"),
        PinnedPrice("litellm", "openai", "gpt-4-turbo", "10", "30"), PinnedPrice("openrouter", "openai", "gpt-4-turbo", "10", "30"),
        PinnedPrice("litellm", "openai", "gpt-3.5-turbo", "0.5", "1.5"), PinnedPrice("tokencost", "openai", "gpt-3.5-turbo", "1.5", "2"),
        PinnedPrice("litellm", "openai", "gpt-4.1", "2", "8"), PinnedPrice("genai_prices", "openai", "gpt-4.1-nano", "0.1", "0.4"),
        PinnedPrice("litellm", "openai", "o1", "15", "60"), PinnedPrice("langfuse", "openai", "o1-mini", "1.1", "4.4"),
        PinnedPrice("litellm", "openai", "o3", "2", "8"), PinnedPrice("llm_prices", "openai", "o3", "10", "40"),
        PinnedPrice("genai_prices", "openai", "o3", "2", "8"), PinnedPrice("portkey", "openai", "o3", "2", "8"),
        PinnedPrice("langfuse", "openai", "o3", "2", "8"), PinnedPrice("openrouter", "openai", "o3", "2", "8"),
        PinnedPrice("litellm", "openai", "o4-mini", "1.1", "4.4"), PinnedPrice("litellm", "openai", "gpt-5", "1.25", "10"),
        PinnedPrice("portkey", "openai", "gpt-5-nano", "0.05", "0.4"), PinnedPrice("litellm", "openai", "gpt-5.5", "5", "30"),
        // Anthropic
        PinnedPrice("tokencost", "anthropic", "claude-3-5-sonnet-20241022", "3", "15"),
        PinnedPrice("langfuse", "anthropic", "claude-3-5-sonnet-20241022", "3", "15"),
        PinnedPrice("portkey", "anthropic", "claude-3-5-sonnet-20241022", "3", "15"),
        PinnedPrice("llm_prices", "anthropic", "claude-3-5-sonnet", "3", "15"),
        PinnedPrice("genai_prices", "anthropic", "claude-3-5-haiku-latest", "0.8", "4"),  // genai's id for the family
        PinnedPrice("openrouter", "anthropic", "claude-3-5-haiku", "0.8", "4"),
        PinnedPrice("litellm-1.85.1", "anthropic", "claude-3-opus-20240229", "15", "75"),
        PinnedPrice("llm_prices", "anthropic", "claude-3-opus", "15", "75"),
        PinnedPrice("llm_prices", "anthropic", "claude-3-haiku", "0.25", "1.25"),
        PinnedPrice("llm_prices", "anthropic", "claude-3-7-sonnet", "3", "15"),
        PinnedPrice("litellm-1.85.1", "anthropic", "claude-sonnet-4-20250514", "3", "15"),
        PinnedPrice("openrouter", "anthropic", "claude-opus-4-1", "15", "75"),
        PinnedPrice("litellm", "anthropic", "claude-sonnet-4-5-20250929", "3", "15"),
        PinnedPrice("llm_prices", "anthropic", "claude-sonnet-4-5", "3", "15"),
        PinnedPrice("llm_prices", "anthropic", "claude-haiku-4-5", "1", "5"),
        PinnedPrice("litellm", "anthropic", "claude-haiku-4-5-20251001", "1", "5"),
        PinnedPrice("litellm", "anthropic", "claude-opus-4-5-20251101", "5", "25"),
        PinnedPrice("genai_prices", "anthropic", "claude-sonnet-4-6", "3", "15"),
        PinnedPrice("openrouter", "anthropic", "claude-opus-4-7", "5", "25"),
        // Google
        PinnedPrice("tokencost", "google", "gemini-1.5-pro", "3.5", "10.5"), PinnedPrice("llm_prices", "google", "gemini-1.5-pro", "1.25", "5"),
        PinnedPrice("portkey", "google", "gemini-1.5-pro", "1.25", "5"), PinnedPrice("genai_prices", "google", "gemini-1.5-flash", "0.075", "0.3"),
        PinnedPrice("litellm-1.85.1", "google", "gemini-1.5-flash", "0.075", "0"),  // LL-old's placeholder zero
        PinnedPrice("langfuse", "google", "gemini-2.0-flash", "0.1", "0.4"), PinnedPrice("litellm", "google", "gemini-2.5-pro", "1.25", "10"),
        PinnedPrice("openrouter", "google", "gemini-2.5-flash", "0.3", "2.5"), PinnedPrice("portkey", "google", "gemini-3-pro-preview", "2", "12"),
        PinnedPrice("llm_prices", "google", "gemini-3.1-pro-preview", "2", "12"),
        // Mistral `-latest` aliases, DeepSeek, xAI, hosts
        PinnedPrice("litellm", "mistral", "mistral-large-latest", "0.5", "1.5"), PinnedPrice("llm_prices", "mistral", "mistral-large-latest", "2", "6"),
        PinnedPrice("genai_prices", "mistral", "mistral-large-latest", "2", "6"), PinnedPrice("portkey", "mistral", "mistral-large-latest", "0.5", "1.5"),
        PinnedPrice("tokencost", "mistral", "mistral-large-latest", "2", "6"),
        PinnedPrice("litellm", "mistral", "mistral-small-latest", "0.15", "0.6"), PinnedPrice("litellm-1.85.1", "mistral", "mistral-small-latest", "0.06", "0.18"),
        PinnedPrice("portkey", "mistral", "mistral-small-latest", "0.1", "0.3"),
        PinnedPrice("litellm", "mistral", "codestral-latest", "0.3", "0.9"), PinnedPrice("litellm-1.85.1", "mistral", "codestral-latest", "1", "3"),
        PinnedPrice("litellm", "deepseek", "deepseek-chat", "0.28", "0.42"), PinnedPrice("llm_prices", "deepseek", "deepseek-chat", "0.27", "1.1"),
        PinnedPrice("genai_prices", "deepseek", "deepseek-chat", "0.27", "1.1"), PinnedPrice("portkey", "deepseek", "deepseek-chat", "0.14", "0.28"),
        PinnedPrice("litellm", "deepseek", "deepseek-reasoner", "0.28", "0.42"), PinnedPrice("genai_prices", "deepseek", "deepseek-reasoner", "0.55", "2.19"),
        PinnedPrice("litellm", "deepseek", "deepseek-v4-flash", "0.3", "1.2"), PinnedPrice("portkey", "deepseek", "deepseek-v4-flash", "0.14", "0.28"),
        PinnedPrice("litellm", "deepseek", "deepseek-v4-pro", "1.32", "3.96"), PinnedPrice("llm_prices", "deepseek", "deepseek-v4-pro", "1.74", "3.48"),
        PinnedPrice("genai_prices", "deepseek", "deepseek-v4-pro", "0.435", "0.87"),
        PinnedPrice("litellm-1.85.1", "xai", "grok-3", "3", "15"), PinnedPrice("genai_prices", "xai", "grok-3-mini", "0.3", "0.5"),
        PinnedPrice("portkey", "xai", "grok-4", "3", "15"), PinnedPrice("openrouter", "xai", "grok-4", "3", "15"),
        PinnedPrice("litellm-1.85.1", "groq", "llama-3.3-70b-versatile", "0.59", "0.79"),
        PinnedPrice("genai_prices", "groq", "llama-3.3-70b-versatile", "0.59", "0.79"),
        PinnedPrice("litellm", "together_ai", "meta-llama/meta-llama-3.1-70b-instruct-turbo", "0.88", "0.88"),
        PinnedPrice("portkey", "together_ai", "meta-llama/meta-llama-3.1-70b-instruct-turbo", "0.88", "0.88"),
        PinnedPrice("openrouter", "openrouter", "meta-llama/llama-3.1-70b-instruct", "0.4", "0.4"),  // a different host
        PinnedPrice("litellm", "bedrock", "nova-pro-v1", "0.8", "3.2"), PinnedPrice("llm_prices", "bedrock", "nova-pro-v1", "0.8", "3.2"),
        PinnedPrice("genai_prices", "bedrock", "nova-pro-v1", "0.8", "3.2"), PinnedPrice("portkey", "bedrock", "nova-pro-v1", "0.8", "3.2"),
        PinnedPrice("openrouter", "bedrock", "nova-pro-v1", "0.8", "3.2"),
        PinnedPrice("litellm", "cohere", "command-r-plus-08-2024", "2.5", "10"),
        PinnedPrice("genai_prices", "cohere", "command-r-plus-08-2024", "2.5", "10"),
    ]

    static func result(for source: String) throws -> ParseResult {
        switch source {
        case "litellm": try Fixture.litellm()
        case "litellm-1.85.1": try Fixture.litellm("1.85.1")
        case "tokencost": try Fixture.tokencost()
        case "langfuse": try Fixture.langfuse()
        case "llm_prices": try Fixture.llmPrices()
        case "genai_prices": try Fixture.genai()
        case "portkey": try Fixture.portkey()
        case "openrouter": try Fixture.openRouter()
        default: throw PriceSourceError.providerRequired(.litellm)
        }
    }

    @Test("parsed prices equal CROSSCHECK.md's cells exactly", arguments: pinned)
    func pinnedPrice(_ cell: PinnedPrice) throws {
        let observation = try Self.result(for: cell.source).require(cell.key)
        #expect(observation.input == perMillion(cell.input))
        #expect(observation.output == perMillion(cell.output))
    }

    @Test("the pins cover at least 20 distinct CROSSCHECK models and every adapter")
    func coverage() {
        #expect(Set(Self.pinned.map(\.key)).count >= 20)
        #expect(Set(Self.pinned.map(\.source)).isSuperset(of: ["litellm", "tokencost", "langfuse", "llm_prices", "genai_prices", "portkey", "openrouter"]))
    }
}
