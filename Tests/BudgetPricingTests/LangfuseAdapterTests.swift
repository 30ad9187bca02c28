// Tests for the Langfuse adapter on the real default-model-prices.json.
import Foundation
import Testing
import BudgetPricing

@Suite("Langfuse adapter")
struct LangfuseAdapterTests {
    @Test("the default tier is the list price; synonyms agree; provider inferred from the name")
    func defaultTier() throws {
        let result = try Fixture.langfuse()
        #expect(result.skipped.isEmpty)
        let gpt4o = try result.require(key("openai", "gpt-4o"))
        #expect(gpt4o.rawProvider == nil)
        #expect(gpt4o.input == perMillion("2.5"))       // not the "Fast mode" 4.25
        #expect(gpt4o.output == perMillion("10"))
        #expect(gpt4o.cacheRead == perMillion("1.25"))
        let sonnet = try result.require(key("anthropic", "claude-sonnet-4-5-20250929"))
        #expect(sonnet.cacheWrite == perMillion("3.75"))  // 5-minute write, not input_cache_creation_1h
        #expect(sonnet.cacheRead == perMillion("0.3"))
        // Langfuse restates the output price for reasoning tokens: not a distinct reasoning price.
        #expect(try result.require(key("openai", "o3")).reasoning == nil)
    }

    @Test("usage-threshold tiers become context tiers")
    func largeContext() throws {
        let gemini = try Fixture.langfuse().require(key("google", "gemini-2.5-pro"))
        #expect(gemini.contextTiers == [ContextTierPrice(thresholdTokens: 200_000, input: perMillion("2.5"),
                                                         output: perMillion("15"), cacheRead: perMillion("0.25"))])
    }

    @Test("a pattern spelling out `<name>(-<date>)?` also yields the undated name")
    func undatedFromPattern() throws {
        let result = try Fixture.langfuse()
        let undated = try result.require(key("anthropic", "claude-sonnet-4-5"))
        #expect(undated.rawModel == "claude-sonnet-4-5")
        #expect(undated.input == perMillion("3"))
        let gpt55 = try result.require(key("openai", "gpt-5.5"))             // from gpt-5.5(-2026-04-23)?
        #expect(gpt55.output == perMillion("30"))
        #expect(result.observation(for: key("openai", "gpt-5.5-20260423")) != nil)
        // Langfuse writes `claude-3.5-sonnet-20241022`: normalised to Anthropic's spelling.
        #expect(result.observation(for: key("anthropic", "claude-3-5-sonnet-20241022"))?.input == perMillion("3"))
    }

    @Test("a lone `total` price prices every token; PaLM models are Vertex")
    func totalAndVertex() throws {
        let result = try Fixture.langfuse()
        let embedding = try result.require(key("openai", "text-embedding-3-small"))
        #expect(embedding.input == perMillion("0.02") && embedding.output == perMillion("0.02"))
        let bison = try result.require(key("vertex_ai", "chat-bison"))
        #expect(bison.input == perMillion("0.25"))
    }

    @Test("malformed documents and definitions")
    func malformed() throws {
        #expect(throws: PriceSourceError.self) { try PriceSource.Langfuse().parse(Data(#"{"models": []}"#.utf8)) }
        let document = #"""
        [{"modelName": "gpt-4o", "pricingTiers": [{"isDefault": true, "prices": {"input": 2.5e-06, "input_tokens": 3e-06, "output": 1e-05}}]},
         {"modelName": "gpt-4o-mini", "pricingTiers": [{"isDefault": false, "prices": {"input": 1.5e-07}}]},
         {"modelName": "o3", "pricingTiers": [{"isDefault": true, "prices": {"input": "2e-06", "output": 8e-06}}]},
         {"modelName": "totally-unknown-model", "pricingTiers": [{"isDefault": true, "prices": {"input": 1e-06}}]}]
        """#
        let result = try PriceSource.Langfuse().parse(Data(document.utf8))
        #expect(result.observations.isEmpty)
        #expect(result.skipped.map(\.key) == ["gpt-4o", "gpt-4o-mini", "o3", "totally-unknown-model"])
        #expect(result.skipped[0].reason == .malformedEntry("synonyms input and input_tokens disagree"))
        #expect(result.skipped[2].reason == .malformedNumber(field: "input", value: "\"2e-06\""))
        #expect(result.skipped[3].reason == .invalidModelName(.unknownProvider(model: "totally-unknown-model")))
    }
}
