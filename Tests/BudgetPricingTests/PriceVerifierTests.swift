// Tests for weighted cross-source verification on CROSSCHECK's real agreements and conflicts.
import BudgetCore
import Foundation
import Testing
import BudgetPricing

@Suite("PriceVerifier")
struct PriceVerifierTests {
    let verifier: PriceVerifier

    init() throws {
        verifier = try PriceVerifier()
    }

    func observations(_ provider: String, _ model: String) throws -> [PriceObservation] {
        Fixture.observations(for: key(provider, model), in: try Fixture.currentSources())
    }

    func synthetic(_ source: String, _ model: String = "gpt-4o", input: String? = nil, output: String? = nil) throws -> PriceObservation {
        let canonical = try ModelNormaliser().canonical(provider: "openai", model: model)
        return PriceObservation(source: source, format: .litellm, rawProvider: "openai", rawModel: model, canonical: canonical,
                                prices: PriceSet(input: input.map(dec), output: output.map(dec)), rawEntry: "{}")
    }

    // MARK: CROSSCHECK cases

    @Test("o3: llm-prices' stale $10/$40 is outvoted; every other source agrees on $2/$8")
    func o3() throws {
        let o3 = try observations("openai", "o3")
        #expect(Set(o3.map(\.source)) == ["genai_prices", "langfuse", "litellm", "llm_prices", "openrouter", "portkey", "tokencost"])
        let result = try verifier.verify(o3)
        guard case .changed(let input, let provenance) = result[.input] else {
            Issue.record("expected a change, got \(result[.input])")
            return
        }
        #expect(input == perMillion("2"))
        #expect(provenance.map(\.source) == ["litellm", "genai_prices", "langfuse", "portkey", "openrouter"])  // by weight
        #expect(!provenance.contains { $0.source == "llm_prices" || $0.source == "tokencost" })
        #expect(result.accepted.output == perMillion("8"))
        #expect(result.accepted.cacheRead == perMillion("0.5"))
        #expect(result.accepted.batchInput == perMillion("1"))
        #expect(result.status == .verified)

        // Against the accepted price nothing changes.
        let again = try verifier.verify(o3, current: result.accepted)
        #expect(again[.input] == .unchanged(perMillion("2")))
        #expect(again.changedFields.isEmpty)
        #expect(again.status == .verified)
    }

    @Test("`mistral-large-latest`: sources resolved the alias to different models → conflict, never a majority")
    func mistralLargeLatest() throws {
        let large = try observations("mistral", "mistral-large-latest")
        #expect(large.allSatisfy { $0.canonical.kind == .alias(of: "mistral-large") })
        let current = PriceSet(input: perMillion("2"), output: perMillion("6"))
        let result = try verifier.verify(large, current: current)
        #expect(result[.input] == .conflict([
            SourceValue(source: "litellm", value: perMillion("0.5"), weight: dec("0.30")),
            SourceValue(source: "portkey", value: perMillion("0.5"), weight: dec("0.15")),
            SourceValue(source: "genai_prices", value: perMillion("2"), weight: dec("0.20")),
            SourceValue(source: "llm_prices", value: perMillion("2"), weight: dec("0.10")),
        ]))
        #expect(result.status == .conflict)
        #expect(result.accepted.input == perMillion("2"))     // the current price stays
        // The same numbers under a concrete name would have been accepted by weight (0.45 of 0.75):
        // only the alias rule makes this a conflict.
        let lenient = try PriceVerifier(policy: VerificationPolicy(aliasesRequireUnanimity: false)).verify(large, current: current)
        #expect(lenient[.input] == .changed(perMillion("0.5"), provenance: [
            SourceValue(source: "litellm", value: perMillion("0.5"), weight: dec("0.30")),
            SourceValue(source: "portkey", value: perMillion("0.5"), weight: dec("0.15")),
        ]))
    }

    @Test("`mistral-small-latest` conflicts; `codestral-latest` agrees once lineage is counted once")
    func otherMistralAliases() throws {
        let small = try verifier.verify(try observations("mistral", "mistral-small-latest"))
        guard case .conflict(let values) = small[.input] else {
            Issue.record("expected a conflict, got \(small[.input])")
            return
        }
        #expect(values.map(\.value) == [perMillion("0.1"), perMillion("0.1"), perMillion("0.1"), perMillion("0.15")])
        #expect(small.status == .conflict)

        // tokencost's stale $1/$3 belongs to LiteLLM's lineage, which LiteLLM ($0.3/$0.9) represents.
        let codestral = try observations("mistral", "codestral-latest")
        #expect(codestral.contains { $0.source == "tokencost" && $0.input == perMillion("1") })
        let result = try verifier.verify(codestral)
        #expect(result[.input] == .changed(perMillion("0.3"), provenance: [
            SourceValue(source: "litellm", value: perMillion("0.3"), weight: dec("0.30")),
            SourceValue(source: "genai_prices", value: perMillion("0.3"), weight: dec("0.20")),
            SourceValue(source: "portkey", value: perMillion("0.3"), weight: dec("0.15")),
            SourceValue(source: "llm_prices", value: perMillion("0.3"), weight: dec("0.10")),
        ]))
        #expect(result.accepted.output == perMillion("0.9"))
    }

    @Test("DeepSeek: three generations of prices for one id → conflict; the current price stays")
    func deepSeek() throws {
        let current = PriceSet(input: perMillion("0.28"), output: perMillion("0.42"))
        for model in ["deepseek-chat", "deepseek-reasoner", "deepseek-v4-pro"] {
            let result = try verifier.verify(try observations("deepseek", model), current: current)
            guard case .conflict = result[.input], case .conflict = result[.output] else {
                Issue.record("\(model): expected conflicts, got \(result[.input]) / \(result[.output])")
                continue
            }
            #expect(result.status == .conflict)
            #expect(result.accepted.input == perMillion("0.28"))
        }
    }

    @Test("DeepSeek's off-peak hours ride with the base price genai-prices states them with, and with no other")
    func offPeakHoursRideWithTheirBase() throws {
        let genai = try Fixture.genai().require(key("deepseek", "deepseek-chat"))
        let llmPrices = try Fixture.llmPrices().require(key("deepseek", "deepseek-chat"))
        #expect(!genai.prices.timesOfDay.isEmpty && llmPrices.prices.timesOfDay.isEmpty)
        // Both state $0.27/$1.10 (one lineage: llm-prices follows genai-prices): the base is
        // accepted, and the window comes with it.
        let verified = try verifier.verify([genai, llmPrices])
        #expect(verified.accepted.input == perMillion("0.27") && verified.accepted.timesOfDay == genai.prices.timesOfDay)
        // genai-prices missing from the next sync, the base unchanged: the window stays.
        #expect(try verifier.verify([llmPrices], current: verified.accepted).accepted.timesOfDay == genai.prices.timesOfDay)
        // All the sources disagree and the current $0.28/$0.42 stays: no discount stated for that price.
        let all = try verifier.verify(try observations("deepseek", "deepseek-chat"), current: PriceSet(input: perMillion("0.28"), output: perMillion("0.42")))
        #expect(all.status == .conflict && all.accepted.timesOfDay.isEmpty)
    }

    @Test("deepseek-v4-flash: three older sources outweigh the newer primary unless freshness is weighted")
    func deepSeekV4Flash() throws {
        let flash = try observations("deepseek", "deepseek-v4-flash")
        let result = try verifier.verify(flash)
        guard case .changed(let input, let provenance) = result[.input] else {
            Issue.record("expected a change, got \(result[.input])")
            return
        }
        #expect(input == perMillion("0.14"))
        #expect(provenance.map(\.source) == ["genai_prices", "portkey", "llm_prices"])
        // CROSSCHECK §6: weigh by freshness. With the Nov-2026 primary at 0.6 no group has half the weight.
        var fresh = SourceProfile.defaults
        fresh[0].weight = dec("0.6")
        let weighted = try PriceVerifier(sources: fresh).verify(flash)
        guard case .conflict = weighted[.input] else {
            Issue.record("expected a conflict, got \(weighted[.input])")
            return
        }
    }

    @Test("zero is a placeholder, not a price (LiteLLM 1.85.1 gemini-1.5-flash output 0)")
    func zeroIsMissing() throws {
        let old = try Fixture.litellm("1.85.1").require(key("google", "gemini-1.5-flash"))
        let others = try observations("google", "gemini-1.5-flash").filter { $0.source != "tokencost" && $0.source != "litellm" }
        let result = try verifier.verify([old] + others)
        guard case .changed(let output, let provenance) = result[.output] else {
            Issue.record("expected a change, got \(result[.output])")
            return
        }
        #expect(output == perMillion("0.3"))
        #expect(!provenance.contains { $0.source == "litellm" })
        #expect(result[.cacheWrite] == .noData)
    }

    // MARK: A suddenly cheap source

    @Test("a source reporting one model 10× cheaper than the others does not win")
    func tenTimesCheaper() throws {
        var gpt4o = try observations("openai", "gpt-4o")
        let index = try #require(gpt4o.firstIndex { $0.source == "litellm" })
        gpt4o[index].prices.input = perMillion("0.25")
        let current = PriceSet(input: perMillion("2.5"), output: perMillion("10"))
        let result = try verifier.verify(gpt4o, current: current)
        #expect(result[.input] == .unchanged(perMillion("2.5")))
        #expect(result.accepted.input == perMillion("2.5"))
        // Without a current price the majority still sets it, without the cheap source.
        guard case .changed(let value, let provenance) = try verifier.verify(gpt4o)[.input] else {
            Issue.record("expected a change")
            return
        }
        #expect(value == perMillion("2.5"))
        #expect(!provenance.contains { $0.source == "litellm" })
    }

    @Test("two sources that disagree by 10× is a conflict, whoever weighs more")
    func twoSourcesDisagree() throws {
        let cheap = try synthetic("litellm", input: "0.00000025", output: "0.00001")
        let normal = try synthetic("portkey", input: "0.0000025", output: "0.00001")
        let current = PriceSet(input: perMillion("2.5"), output: perMillion("10"))
        let result = try verifier.verify([cheap, normal], current: current)
        guard case .conflict = result[.input] else {
            Issue.record("expected a conflict, got \(result[.input])")
            return
        }
        #expect(result[.output] == .unchanged(perMillion("10")))
        #expect(result.accepted.input == perMillion("2.5"))
        #expect(result.status == .conflict)
    }

    @Test("a lone source may price a model, but not move an existing price by more than 50%")
    func singleSource() throws {
        let current = PriceSet(input: perMillion("2.5"), output: perMillion("10"))
        let cheap = try verifier.verify([try synthetic("portkey", input: "0.00000025", output: "0.00001")], current: current)
        #expect(cheap[.input] == .rejectedSuspicious(SourceValue(source: "portkey", value: perMillion("0.25"), weight: dec("0.15")),
                                                      current: perMillion("2.5")))
        #expect(cheap.accepted.input == perMillion("2.5"))
        #expect(cheap.status == .conflict)

        let modest = try verifier.verify([try synthetic("portkey", input: "0.000003", output: "0.00001")], current: current)
        #expect(modest[.input] == .singleSource(SourceValue(source: "portkey", value: perMillion("3"), weight: dec("0.15"))))
        #expect(modest.accepted.input == perMillion("3"))
        #expect(modest.status == .singleSource)

        let fresh = try verifier.verify([try synthetic("portkey", input: "0.00000025", output: "0.00001")])
        #expect(fresh[.input] == .singleSource(SourceValue(source: "portkey", value: perMillion("0.25"), weight: dec("0.15"))))
    }

    @Test("sources of one lineage count once (tokencost copies LiteLLM)")
    func lineage() throws {
        #expect(verifier.lineageRoot(of: "tokencost") == "litellm")
        let litellm = try Fixture.litellm().require(key("openai", "gpt-3.5-turbo"))
        let tokencost = try Fixture.tokencost().require(key("openai", "gpt-3.5-turbo"))
        let result = try verifier.verify([litellm, tokencost])
        #expect(result[.input] == .singleSource(SourceValue(source: "litellm", value: perMillion("0.5"), weight: dec("0.30"))))
        #expect(result.status == .singleSource)
        // Even when the copies agree they are one source.
        let gpt4o = try verifier.verify([try Fixture.litellm().require(key("openai", "gpt-4o")),
                                         try Fixture.tokencost().require(key("openai", "gpt-4o"))])
        #expect(gpt4o.status == .singleSource)
    }

    @Test("the accepted value is the highest-weight source's, cleaned; provenance is by weight")
    func chosenValue() throws {
        let a = try synthetic("portkey", input: "0.000003")
        let b = try synthetic("litellm", input: "0.0000030000000000000001")
        let c = try synthetic("genai_prices", input: "0.00000301")
        let result = try verifier.verify([a, b, c])
        #expect(result[.input] == .changed(perMillion("3"), provenance: [
            SourceValue(source: "litellm", value: dec("0.0000030000000000000001"), weight: dec("0.30")),
            SourceValue(source: "genai_prices", value: perMillion("3.01"), weight: dec("0.20")),
            SourceValue(source: "portkey", value: perMillion("3"), weight: dec("0.15")),
        ]))
        // Within tolerance of the current price: unchanged, and the current value is kept.
        #expect(try verifier.verify([a, b, c], current: PriceSet(input: perMillion("3.02")))[.input] == .unchanged(perMillion("3.02")))
        // 2% away is a change.
        guard case .changed = try verifier.verify([a, b, c], current: PriceSet(input: perMillion("3.1")))[.input] else {
            Issue.record("expected a change")
            return
        }
    }

    @Test("quorum needs both enough sources and enough weight")
    func quorum() throws {
        let high = try synthetic("litellm", input: "0.000001")
        let low1 = try synthetic("llm_prices", input: "0.000002")
        let low2 = try synthetic("openrouter", input: "0.000002")
        // 2 sources with 0.20 of 0.50 weight: not enough weight.
        guard case .conflict = try verifier.verify([high, low1, low2])[.input] else {
            Issue.record("expected a conflict")
            return
        }
        let strict = try PriceVerifier(policy: VerificationPolicy(minSources: 3))
        let mid = try synthetic("portkey", input: "0.000002")
        let genai = try synthetic("genai_prices", input: "0.000002")
        // 4 sources agree with 0.55 of 0.85 weight: accepted with minSources 3.
        guard case .changed = try strict.verify([high, low1, low2, mid, genai])[.input] else {
            Issue.record("expected a change")
            return
        }
        #expect(try verifier.verify([high])[.output] == .noData)
        #expect(try verifier.verify([]).status == .noData)
    }

    @Test("invalid requests throw typed errors")
    func errors() throws {
        let gpt4o = try synthetic("litellm", input: "0.0000025")
        let mini = try synthetic("portkey", "gpt-4o-mini", input: "0.00000015")
        #expect(throws: VerificationError.mixedKeys([key("openai", "gpt-4o"), key("openai", "gpt-4o-mini")])) {
            try verifier.verify([gpt4o, mini])
        }
        #expect(throws: VerificationError.unknownSource("helicone")) { try verifier.verify([try synthetic("helicone", input: "1")]) }
        #expect(throws: VerificationError.duplicateSource("litellm")) { try verifier.verify([gpt4o, gpt4o]) }
        #expect(throws: VerificationError.self) { try PriceVerifier(sources: [SourceProfile(name: "a", weight: 0)]) }
        #expect(throws: VerificationError.self) {
            try PriceVerifier(sources: [SourceProfile(name: "a", weight: 1, lineage: "b"), SourceProfile(name: "b", weight: 1, lineage: "a")])
        }
    }

    @Test("verifyAll groups a batch by key")
    func verifyAll() throws {
        let all = try Fixture.currentSources().values.flatMap(\.observations)
        let results = try verifier.verifyAll(all)
        #expect(results[key("openai", "gpt-4o")]?.status == .verified)
        #expect(results[key("mistral", "mistral-large-latest")]?.status == .conflict)
        #expect(results[key("openrouter", "meta-llama/llama-3.3-70b-instruct")]?.status == .singleSource)
    }
}
