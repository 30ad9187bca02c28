// Tests for the Portkey adapter: cents per token, tier suffixes, self-contradictions.
import Foundation
import Testing
import BudgetPricing

@Suite("Portkey adapter")
struct PortkeyAdapterTests {
    @Test("prices are US cents per token")
    func cents() throws {
        let gpt4o = try Fixture.portkey("openai").require(key("openai", "gpt-4o"))
        #expect(gpt4o.input == perMillion("2.5"))          // 0.00025 cents
        #expect(gpt4o.output == perMillion("10"))
        #expect(gpt4o.cacheRead == perMillion("1.25"))
        #expect(gpt4o.cacheWrite == 0)                      // stated as 0: kept, and treated as unstated by verification
        #expect(gpt4o.batchInput == perMillion("1.25"))
        #expect(gpt4o.batchOutput == perMillion("5"))
        let sonnet = try Fixture.portkey("anthropic").require(key("anthropic", "claude-3-5-sonnet-20241022"))
        #expect(sonnet.cacheWrite == perMillion("3.75"))
    }

    @Test("the provider comes from the file and is required")
    func providerRequired() throws {
        #expect(throws: PriceSourceError.providerRequired(.portkey)) {
            try PriceSource.Portkey().parse(Fixture.data("portkey/pricing/openai.json"))
        }
        let result = try Fixture.portkey("mistral-ai")
        #expect(result.observations.allSatisfy { $0.key.provider == "mistral" && $0.rawProvider == "mistral-ai" })
        #expect(result.observation(rawModel: "default") == nil)
    }

    @Test("`-lte-128k` is the base price and `-gt-128k` its context tier")
    func tierSuffixes() throws {
        let result = try Fixture.portkey("google")
        let pro = try result.require(key("google", "gemini-2.5-pro"))
        #expect(pro.rawModel == "gemini-2.5-pro-lte-128k")
        #expect(pro.input == perMillion("1.25"))
        #expect(pro.contextTiers == [ContextTierPrice(thresholdTokens: 128_000, input: perMillion("2.5"),
                                                      output: perMillion("15"), cacheRead: perMillion("0.25"))])
        // Portkey lists gemini-3.1-pro-preview as both -lte-128k and -lte-200k with different cache
        // reads: the source abstains on cache read, input and output stand.
        let gemini31 = try result.require(key("google", "gemini-3.1-pro-preview"))
        #expect(gemini31.input == perMillion("2") && gemini31.output == perMillion("12"))
        #expect(gemini31.cacheRead == nil)
        #expect(result.skipped.contains {
            $0.reason == .conflictingDuplicate(with: "gemini-3.1-pro-preview-lte-200k", fields: [.cacheRead])
        })
    }

    @Test("case-only duplicates that disagree make the source abstain on those fields (deepbricks)")
    func caseDuplicates() throws {
        let result = try Fixture.portkey("deepbricks")
        let gpt4o = try result.require(key("deepbricks", "gpt-4o"))
        #expect(gpt4o.input == nil)                           // GPT-4o 1.5 vs gpt-4o 1.0
        #expect(gpt4o.output == perMillion("4"))              // both say 4
        #expect(result.skipped == [SkippedEntry(key: "gpt-4o", reason: .conflictingDuplicate(with: "GPT-4o", fields: [.input]))])
    }

    @Test("Vertex `-v2@date` names resolve to the dated snapshot")
    func vertexNames() throws {
        let result = try Fixture.portkey("vertex-ai")
        let sonnet35 = try result.require(key("vertex_ai", "claude-3-5-sonnet-20241022"))
        #expect(sonnet35.rawModel == "claude-3-5-sonnet-v2@20241022")
        #expect(result.observations.filter { $0.key == key("vertex_ai", "claude-3-7-sonnet-20250219") }.count == 1)
    }

    @Test("garbage numbers skip the entry")
    func garbage() throws {
        let document = #"{"default": {"pricing_config": {"pay_as_you_go": {"request_token": {"price": 0}}}},"# +
            #" "a": {"pricing_config": {"pay_as_you_go": {"request_token": {"price": "0.0001"}}}},"# +
            #" "b": {"pricing_config": {"pay_as_you_go": {"request_token": 0.0001}}},"# +
            #" "c": {"pricing_config": {"pay_as_you_go": {"request_token": {"price": 0.0001}, "response_token": {"price": null}}}},"# +
            #" "d-gt-128k": {"pricing_config": {"pay_as_you_go": {"request_token": {"price": 0.0002}}}}}"#
        let result = try PriceSource.Portkey().parse(Data(document.utf8), provider: "openai")
        #expect(result.observations.map(\.rawModel) == ["c"])
        #expect(result.skipped.map(\.reason) == [.malformedNumber(field: "pay_as_you_go.request_token", value: "\"0.0001\""),
                                                  .malformedNumber(field: "pay_as_you_go.request_token", value: "0.0001"),
                                                  .contextTierWithoutBase(base: "d")])
    }
}
