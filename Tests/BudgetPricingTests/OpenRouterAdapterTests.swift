// Tests for the OpenRouter adapter: string prices, pass-through, dynamic prices.
import Foundation
import Testing
import BudgetPricing

@Suite("OpenRouter adapter")
struct OpenRouterAdapterTests {
    @Test("decimal-string prices; closed vendor models pass through to the vendor")
    func passThrough() throws {
        let result = try Fixture.openRouter()
        let sonnet = try result.require(key("anthropic", "claude-sonnet-4-5"))
        #expect(sonnet.rawModel == "anthropic/claude-sonnet-4.5")
        #expect(sonnet.rawProvider == "openrouter")
        #expect(sonnet.input == perMillion("3") && sonnet.output == perMillion("15"))
        #expect(sonnet.cacheRead == perMillion("0.3") && sonnet.cacheWrite == perMillion("3.75"))
        #expect(try result.require(key("xai", "grok-4")).input == perMillion("3"))
        #expect(try result.require(key("google", "gemini-2.5-pro")).output == perMillion("10"))
        // The `-fast` variant (6× the price) is a different model.
        #expect(try result.require(key("anthropic", "claude-opus-4-7-fast")).input == perMillion("30"))
    }

    @Test("open-weight models stay OpenRouter's own prices")
    func openWeights() throws {
        let result = try Fixture.openRouter()
        #expect(try result.require(key("openrouter", "meta-llama/llama-3.3-70b-instruct")).input == perMillion("0.1"))
        #expect(result.observation(for: key("openrouter", "openai/gpt-oss-120b")) != nil)
        #expect(result.observation(for: key("openrouter", "openai/gpt-oss-120b:free")) != nil)
        #expect(result.observation(for: key("openrouter", "google/gemma-3-27b-it")) != nil)
        #expect(result.observation(for: key("openrouter", "deepseek/deepseek-chat")) != nil)
        #expect(result.observation(for: key("openrouter", "mistralai/mistral-large")) != nil)
        // Nova is served only by Bedrock: the alias table keys it there.
        #expect(try result.require(key("bedrock", "nova-pro-v1")).input == perMillion("0.8"))
    }

    @Test("moving `~` aliases are flagged; dynamic prices are skipped")
    func aliasesAndDynamic() throws {
        let result = try Fixture.openRouter()
        let latest = try result.require(key("openrouter", "anthropic/claude-sonnet-latest"))
        #expect(latest.canonical.kind == .alias(of: "anthropic/claude-sonnet"))
        #expect(result.skipped == [SkippedEntry(key: "openrouter/auto", reason: .dynamicPricing)])
    }

    @Test("malformed documents throw; garbage strings are skipped")
    func malformed() throws {
        #expect(throws: PriceSourceError.unexpectedShape(path: "$.data", expected: "array", found: "missing")) {
            try PriceSource.OpenRouter().parse(Data(#"{"models": []}"#.utf8))
        }
        let document = #"{"data": [{"id": "openai/gpt-4o", "pricing": {"prompt": "0.0000025abc", "completion": "0.00001"}},"# +
            #" {"id": "x/y", "pricing": {"prompt": 0.000001, "completion": "0.000002"}},"# +
            #" {"id": "x/z", "pricing": {"prompt": "-0.5", "completion": "0.000002"}}]}"#
        let result = try PriceSource.OpenRouter().parse(Data(document.utf8))
        #expect(result.observations.map(\.rawModel) == ["x/y"])  // JSON numbers are read as well
        #expect(result.skipped.map(\.reason) == [.malformedNumber(field: "pricing.prompt", value: "0.0000025abc"),
                                                  .malformedNumber(field: "pricing.prompt", value: "-0.5")])
    }
}
