// Tests for the llm-prices adapter: units, pseudo-models, history, aliases.
import Foundation
import Testing
import BudgetPricing

@Suite("llm-prices adapter")
struct LLMPricesAdapterTests {
    @Test("prices per 1M become per token; o3 still carries the pre-cut price")
    func perMillionUnits() throws {
        let result = try Fixture.llmPrices()
        let o3 = try result.require(key("openai", "o3"))
        #expect(o3.input == perMillion("10"))
        #expect(o3.output == perMillion("40"))
        #expect(o3.cacheRead == perMillion("0.5"))
        #expect(o3.cacheWrite == nil && o3.batchInput == nil)  // the source cannot express these
    }

    @Test("long-context pseudo-models fold into their base model")
    func pseudoModels() throws {
        let result = try Fixture.llmPrices()
        let gemini = try result.require(key("google", "gemini-2.5-pro"))
        #expect(gemini.contextTiers == [ContextTierPrice(thresholdTokens: 200_000, input: perMillion("2.5"),
                                                         output: perMillion("15"), cacheRead: perMillion("0.25"))])
        #expect(result.observation(for: key("google", "gemini-2.5-pro-200k")) == nil)
        // `gemini-3-1-pro-preview` (a dash for the dot) and its `-200k` tier.
        let gemini31 = try result.require(key("google", "gemini-3.1-pro-preview"))
        #expect(gemini31.rawModel == "gemini-3-1-pro-preview")
        #expect(gemini31.contextTiers.first?.thresholdTokens == 200_000)
        let gpt54 = try result.require(key("openai", "gpt-5.4"))
        #expect(gpt54.contextTiers.map(\.thresholdTokens) == [272_000])
    }

    @Test("a model listed twice with the same prices is one observation (`grok-4-fast`)")
    func duplicateRow() throws {
        let result = try Fixture.llmPrices()
        #expect(result.skipped == [SkippedEntry(key: "grok-4-fast", reason: .duplicate(of: "grok-4-fast"))])
        let fast = try result.require(key("xai", "grok-4-fast"))
        #expect(fast.input == perMillion("0.2"))
        #expect(fast.contextTiers.map(\.thresholdTokens) == [128_000])
    }

    @Test("dated history rows are chosen for the evaluation day")
    func history() throws {
        let before = try Fixture.llmPrices("historical-v1.json", at: Date(timeIntervalSince1970: 1_735_732_800))  // 2025-01-01
        #expect(try before.require(key("deepseek", "deepseek-chat")).input == perMillion("0.14"))
        let after = try Fixture.llmPrices("historical-v1.json")
        #expect(try after.require(key("deepseek", "deepseek-chat")).input == perMillion("0.27"))
        // The upstream vendor file has the same history.
        let vendor = try Fixture.llmPrices("data/deepseek.json", at: Date(timeIntervalSince1970: 1_735_732_800))
        let chat = try vendor.require(key("deepseek", "deepseek-chat"))
        #expect(chat.output == perMillion("0.28"))
        #expect(chat.rawProvider == "deepseek")
        // claude-sonnet-5 costs $3/$15 from 2026-09-01 on.
        let anthropic = try Fixture.llmPrices("data/anthropic.json")
        #expect(try anthropic.require(key("anthropic", "claude-sonnet-5")).input == perMillion("3"))
    }

    @Test("Amazon Nova's marketing name reaches Bedrock's id through the alias table")
    func novaAlias() throws {
        let nova = try Fixture.llmPrices().require(key("bedrock", "nova-pro-v1"))
        #expect(nova.rawModel == "amazon-nova-pro")
        #expect(nova.canonical.rules == [.aliasTable])
    }

    @Test("malformed documents throw; malformed rows are skipped")
    func malformed() throws {
        #expect(throws: PriceSourceError.self) { try PriceSource.LLMPrices(evaluatedAt: Fixture.instant).parse(Data("[]".utf8)) }
        #expect(throws: PriceSourceError.self) {
            try PriceSource.LLMPrices(evaluatedAt: Fixture.instant).parse(Data(#"{"prices": {"id": "x"}}"#.utf8))
        }
        let document = #"{"prices": [{"id": "gpt-4o", "vendor": "openai", "input": "2.5", "output": 10},"# +
            #" {"id": "o3", "vendor": "openai", "input": 2, "output": 8, "from_date": "June 2025"},"# +
            #" {"vendor": "openai", "input": 1, "output": 1}]}"#
        let result = try PriceSource.LLMPrices(evaluatedAt: Fixture.instant).parse(Data(document.utf8))
        #expect(result.observations.isEmpty)
        #expect(result.skipped.map(\.reason) == [.malformedNumber(field: "input", value: "\"2.5\""),
                                                  .malformedEntry("from_date is not a yyyy-mm-dd date"),
                                                  .malformedEntry("row without id")])
    }
}
