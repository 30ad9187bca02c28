// Tests for the LiteLLM adapter (and tokencost, which shares its format) on the real snapshots.
import Foundation
import Testing
import BudgetPricing

@Suite("LiteLLM adapter")
struct LiteLLMAdapterTests {
    @Test("reads per-token list, cache, batch and reasoning prices exactly")
    func gpt4o() throws {
        let result = try Fixture.litellm()
        let gpt4o = try result.require(key("openai", "gpt-4o"))
        #expect(gpt4o.source == "litellm")
        #expect(gpt4o.format == .litellm)
        #expect(gpt4o.rawProvider == "openai")
        #expect(gpt4o.rawModel == "gpt-4o")
        #expect(gpt4o.input == perMillion("2.5"))
        #expect(gpt4o.output == perMillion("10"))
        #expect(gpt4o.cacheRead == perMillion("1.25"))
        #expect(gpt4o.cacheWrite == nil)
        #expect(gpt4o.batchInput == perMillion("1.25"))
        #expect(gpt4o.batchOutput == perMillion("5"))
        #expect(gpt4o.reasoning == nil)
        // The raw entry is kept verbatim (numbers as written) for JSONB storage.
        #expect(gpt4o.rawEntry.contains(#""input_cost_per_token":2.5e-06"#))
        #expect(try ExactJSON.parse(gpt4o.rawEntry)["litellm_provider"]?.stringValue == "openai")
    }

    @Test("Anthropic entries carry the 5-minute cache write and batch prices")
    func claudeSonnet45() throws {
        let sonnet = try Fixture.litellm().require(key("anthropic", "claude-sonnet-4-5-20250929"))
        #expect(sonnet.input == perMillion("3"))
        #expect(sonnet.output == perMillion("15"))
        #expect(sonnet.cacheRead == perMillion("0.3"))
        #expect(sonnet.cacheWrite == perMillion("3.75"))       // not the 1-hour $6
        #expect(sonnet.batchInput == perMillion("1.5"))
        #expect(sonnet.batchOutput == perMillion("7.5"))
        #expect(sonnet.canonical.kind == .snapshot(date: "20250929"))
    }

    @Test("long-context prices become a context tier; priority/flex variants are ignored")
    func contextTier() throws {
        let gemini = try Fixture.litellm().require(key("google", "gemini-2.5-pro"))
        #expect(gemini.rawModel == "gemini/gemini-2.5-pro")
        #expect(gemini.input == perMillion("1.25"))
        #expect(gemini.output == perMillion("10"))
        #expect(gemini.contextTiers == [ContextTierPrice(thresholdTokens: 200_000, input: perMillion("2.5"),
                                                         output: perMillion("15"), cacheRead: perMillion("0.25"))])
        // LiteLLM's bare `gemini-2.5-pro` is the Vertex entry, a different key.
        let vertex = try Fixture.litellm().require(key("vertex_ai", "gemini-2.5-pro"))
        #expect(vertex.rawProvider == "vertex_ai-language-models")
    }

    @Test("sample_spec is documentation, not an entry; non-token entries are skipped with a reason")
    func sampleSpec() throws {
        let result = try Fixture.litellm()
        #expect(result.observation(rawModel: "sample_spec") == nil)
        #expect(!result.skipped.contains { $0.key == "sample_spec" })
        #expect(result.skipped.allSatisfy {
            switch $0.reason {
            case .noTokenPrices, .duplicate: true
            default: false
            }
        })
    }

    @Test("regional and data-zone deployments stay separate keys with their own prices")
    func regions() throws {
        let result = try Fixture.litellm()
        let bare = try result.require(key("bedrock", "claude-sonnet-4-5-20250929"))
        let us = try result.require(key("bedrock", "claude-sonnet-4-5-20250929", region: "us"))
        let global = try result.require(key("bedrock", "claude-sonnet-4-5-20250929", region: "global"))
        let gov = try result.require(key("bedrock", "claude-sonnet-4-5-20250929", region: "us-gov-west-1"))
        #expect(bare.input == perMillion("3") && global.input == perMillion("3"))
        #expect(us.input == perMillion("3.3") && us.output == perMillion("16.5"))
        #expect(gov.input == perMillion("3.6"))
        let azure = try result.require(key("azure", "gpt-4o"))
        let azureEU = try result.require(key("azure", "gpt-4o", region: "eu"))
        #expect(azure.input == perMillion("2.5"))
        #expect(azureEU.input == perMillion("2.75"))
    }

    @Test("a model listed twice in agreement is one observation; a zero placeholder does not conflict")
    func duplicates() throws {
        let result = try Fixture.litellm()
        // `deepseek-chat` and `deepseek/deepseek-chat` agree (the latter adds a 0.0 cache write).
        let chat = try result.require(key("deepseek", "deepseek-chat"))
        #expect(chat.input == perMillion("0.28") && chat.output == perMillion("0.42"))
        #expect(result.skipped.contains { $0.key == "deepseek/deepseek-chat" && $0.reason == .duplicate(of: "deepseek-chat") })
        // `gemini/gemini-exp-1206` is all zeros; `gemini-exp-1206` has the prices.
        let exp = try result.require(key("google", "gemini-exp-1206"))
        #expect(exp.input == perMillion("0.3"))
        #expect(result.observations.filter { $0.key == key("google", "gemini-exp-1206") }.count == 1)
    }

    @Test("LiteLLM 1.85.1 keeps its OpenRouter keys under the vendor only when they agree")
    func oldOpenRouterKeys() throws {
        let old = try Fixture.litellm("1.85.1")
        // `openrouter/openai/gpt-4o` passes through to OpenAI but never displaces LiteLLM's own entry.
        let gpt4o = try old.require(key("openai", "gpt-4o"))
        #expect(gpt4o.rawModel == "gpt-4o")
        #expect(old.skipped.contains { $0.key == "openrouter/openai/gpt-4o" })
    }

    @Test("tokencost is read with the same adapter and carries its own source name")
    func tokencost() throws {
        let result = try Fixture.tokencost()
        let gpt35 = try result.require(key("openai", "gpt-3.5-turbo"))
        #expect(gpt35.source == "tokencost")
        #expect(gpt35.input == perMillion("1.5"))  // stale: CROSSCHECK "never picked up a price cut"
        #expect(gpt35.output == perMillion("2"))
    }

    @Test("entries with garbage numbers are skipped and listed; the rest is kept")
    func garbageNumbers() throws {
        let document = #"""
        {
          "sample_spec": {"input_cost_per_token": 0.0},
          "good": {"litellm_provider": "openai", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
          "string-price": {"litellm_provider": "openai", "input_cost_per_token": "1e-06", "output_cost_per_token": 2e-06},
          "negative": {"litellm_provider": "openai", "input_cost_per_token": -1e-06, "output_cost_per_token": 2e-06},
          "bool": {"litellm_provider": "openai", "input_cost_per_token": true},
          "bad-batch": {"litellm_provider": "openai", "input_cost_per_token": 1e-06, "input_cost_per_token_batches": [1]},
          "bad-tier": {"litellm_provider": "openai", "input_cost_per_token": 1e-06, "input_cost_per_token_above_200k_tokens": "x"},
          "too-precise": {"litellm_provider": "openai", "input_cost_per_token": 1e-999},
          "not-an-object": 42,
          "image-only": {"litellm_provider": "openai", "input_cost_per_image": 0.04},
          "null-prices": {"litellm_provider": "openai", "input_cost_per_token": null, "output_cost_per_token": null}
        }
        """#
        let result = try PriceSource.LiteLLM().parse(Data(document.utf8))
        #expect(result.observations.map(\.rawModel) == ["good"])
        let reasons = Dictionary(uniqueKeysWithValues: result.skipped.map { ($0.key, $0.reason) })
        #expect(reasons.count == 9)
        #expect(reasons["string-price"] == .malformedNumber(field: "input_cost_per_token", value: "\"1e-06\""))
        #expect(reasons["negative"] == .malformedNumber(field: "input_cost_per_token", value: "-1e-06"))
        #expect(reasons["bool"] == .malformedNumber(field: "input_cost_per_token", value: "true"))
        #expect(reasons["bad-batch"] == .malformedNumber(field: "input_cost_per_token_batches", value: "[1]"))
        #expect(reasons["bad-tier"] == .malformedNumber(field: "input_cost_per_token_above_200k_tokens", value: "\"x\""))
        #expect(reasons["too-precise"] == .malformedNumber(field: "input_cost_per_token", value: "1e-999"))
        #expect(reasons["not-an-object"] == .malformedEntry("entry is a number"))
        #expect(reasons["image-only"] == .noTokenPrices)
        #expect(reasons["null-prices"] == .noTokenPrices)
    }

    @Test("a wholly malformed document throws a typed error")
    func malformedDocuments() {
        #expect(throws: PriceSourceError.unexpectedShape(path: "$", expected: "object keyed by model name", found: "array")) {
            try PriceSource.LiteLLM().parse(Data("[]".utf8))
        }
        let error = #expect(throws: PriceSourceError.self) {
            try PriceSource.LiteLLM().parse(Data(#"{"gpt-4o": {"input_cost_per_token": 1e-06,}}"#.utf8))
        }
        guard case .invalidJSON(let jsonError)? = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
        #expect(jsonError.offset == 42)
    }
}
