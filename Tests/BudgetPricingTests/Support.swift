// Test support: fixture loading relative to this file, exact expected values, source parsing.
import Foundation
import Testing
import BudgetPricing

/// The trimmed fixtures under `Tests/Fixtures/pricing`, found from this file's path (not from
/// the bundle, and never from /work/shared).
enum Fixture {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()            // BudgetPricingTests
        .deletingLastPathComponent()            // Tests
        .appendingPathComponent("Fixtures/pricing", isDirectory: true)

    /// CROSSCHECK.md's evaluation instant, 2026-11-21 12:00 UTC (genai-prices' dated and
    /// time-of-day rules depend on it).
    static let instant = Date(timeIntervalSince1970: 1_795_262_400)

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(path))
    }

    static func litellm(_ version: String = "1.109.1") throws -> ParseResult {
        try PriceSource.LiteLLM().parse(data("litellm/\(version)/model_prices_and_context_window_backup.json"))
    }

    static func tokencost() throws -> ParseResult {
        try PriceSource.LiteLLM(sourceName: "tokencost").parse(data("tokencost/0.1.26/model_prices.json"))
    }

    static func langfuse() throws -> ParseResult {
        try PriceSource.Langfuse().parse(data("langfuse/default-model-prices.json"))
    }

    static func llmPrices(_ file: String = "current-v1.json", at date: Date = instant) throws -> ParseResult {
        try PriceSource.LLMPrices(evaluatedAt: date).parse(data("llm-prices/" + file))
    }

    static func genai(at date: Date = instant) throws -> ParseResult {
        try PriceSource.GenAIPrices(evaluatedAt: date).parse(data("genai-prices/v2/data.json"))
    }

    static let portkeyProviders = ["anthropic", "bedrock", "cohere", "deepbricks", "deepseek", "google", "groq",
                                   "mistral-ai", "openai", "together-ai", "vertex-ai", "x-ai"]

    static func portkey(_ provider: String) throws -> ParseResult {
        try PriceSource.Portkey().parse(data("portkey/pricing/\(provider).json"), provider: provider)
    }

    /// All Portkey files as one result (each file is one provider).
    static func portkey() throws -> ParseResult {
        var all = ParseResult()
        for provider in portkeyProviders {
            let result = try portkey(provider)
            all.observations += result.observations
            all.skipped += result.skipped
        }
        return all
    }

    static func openRouter() throws -> ParseResult {
        try PriceSource.OpenRouter().parse(data("openrouter/models.json"))
    }

    /// The current snapshot of each source, as the sync job would hold them at `instant`.
    static func currentSources() throws -> [String: ParseResult] {
        [
            "litellm": try litellm(),
            "tokencost": try tokencost(),
            "langfuse": try langfuse(),
            "llm_prices": try llmPrices(),
            "genai_prices": try genai(),
            "portkey": try portkey(),
            "openrouter": try openRouter(),
        ]
    }

    /// Every source's observation for one key.
    static func observations(for key: CanonicalModelKey, in sources: [String: ParseResult]) -> [PriceObservation] {
        sources.keys.sorted().compactMap { sources[$0]?.observation(for: key) }
    }
}

/// USD per token from a USD-per-1M text, built with `Decimal(string:)` and exact decimal division
/// (independent of the code under test).
func perMillion(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))! / Decimal(1_000_000)
}

/// A Decimal from its text.
func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
}

func key(_ provider: String, _ model: String, region: String? = nil) -> CanonicalModelKey {
    CanonicalModelKey(provider: provider, model: model, region: region)
}

extension ParseResult {
    /// The observation for a canonical key, or a recorded test failure.
    func require(_ key: CanonicalModelKey, sourceLocation: SourceLocation = #_sourceLocation) throws -> PriceObservation {
        try #require(observation(for: key), "no observation for \(key)", sourceLocation: sourceLocation)
    }
}
