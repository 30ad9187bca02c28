// Replays LiteLLM 1.85.1 → 1.109.1: verification reports exactly the prices that changed.
import Foundation
import Testing
import BudgetPricing

@Suite("LiteLLM 1.85.1 → 1.109.1")
struct LiteLLMSnapshotDiffTests {
    /// LiteLLM alone, as the primary: one source is enough (the replay checks change detection,
    /// not cross-source agreement).
    let verifier: PriceVerifier

    init() throws {
        verifier = try PriceVerifier(sources: [SourceProfile(name: "litellm", weight: 1)],
                                     policy: VerificationPolicy(minSources: 1))
    }

    /// A stated price: zero is a placeholder (CROSSCHECK §5), so it is treated as unstated.
    func stated(_ value: Decimal?) -> Decimal? {
        guard let value, !value.isZero else { return nil }
        return value
    }

    @Test("changed exactly where the two snapshots' prices differ, unchanged everywhere else")
    func replay() throws {
        let old = try Fixture.litellm("1.85.1")
        let new = try Fixture.litellm("1.109.1")

        // Prices accepted from the earlier snapshot.
        var accepted: [CanonicalModelKey: PriceSet] = [:]
        for observation in old.observations {
            accepted[observation.key] = try verifier.verify([observation]).accepted
        }

        var changed: [String] = []
        var unchanged = 0
        let oldByKey = old.byKey
        for observation in new.observations {
            guard let current = accepted[observation.key], let before = oldByKey[observation.key] else { continue }
            let result = try verifier.verify([observation], current: current)
            for field in PriceField.allCases {
                let was = stated(before.prices[field]), now = stated(observation.prices[field])
                switch (was, now) {
                case (let was?, let now?) where was == now:
                    #expect(result[field] == .unchanged(was), "\(observation.key) \(field)")
                    unchanged += 1
                case (let was?, let now?):
                    // Real changes are large (CROSSCHECK: ×1.5 to ×5), never inside the 1% tolerance.
                    #expect(abs(now - was) > was * dec("0.01"), "\(observation.key) \(field) moved by less than 1%")
                    #expect(result[field] == .changed(now, provenance: [SourceValue(source: "litellm", value: now, weight: 1)]),
                            "\(observation.key) \(field)")
                    changed.append("\(observation.rawModel) \(field.rawValue)")
                case (nil, let now?):
                    #expect(result[field] == .changed(now, provenance: [SourceValue(source: "litellm", value: now, weight: 1)]))
                    changed.append("\(observation.rawModel) \(field.rawValue)")
                case (let was?, nil):
                    // A price the new snapshot no longer states is kept, not zeroed.
                    #expect(result[field] == .noData)
                    #expect(result.accepted[field] == was)
                case (nil, nil):
                    #expect(result[field] == .noData)
                }
            }
        }
        #expect(unchanged > 100)
        // CROSSCHECK's independently derived selection of changes is found by the replay.
        for expected in ["mistral/codestral-latest input", "mistral/codestral-latest output",
                         "mistral/mistral-small-latest input", "mistral/mistral-medium-latest output",
                         "azure/gpt-4o-mini input", "command-r7b-12-2024 input", "command-r7b-12-2024 output",
                         "eu.anthropic.claude-3-5-haiku-20241022-v1:0 input", "anthropic.claude-mythos-preview input",
                         "gemini-pro-latest input", "amazon.titan-text-express-v1 output",
                         "meta.llama3-1-405b-instruct-v1:0 input", "xai/grok-code-fast-1 input"] {
            #expect(changed.contains(expected), "\(expected) not detected")
        }
        // …and unchanged models are not reported: among the 53 models, exactly two changed their
        // input or output price (mistral-small-latest and codestral-latest). Other fields did
        // change (1.109.1 added batch prices for many models), which the replay reports too.
        let crossCheckKeys: Set<String> = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "gpt-5", "claude-sonnet-4-5-20250929",
                                           "claude-opus-4-7", "gemini/gemini-2.5-pro", "deepseek-chat", "amazon.nova-pro-v1:0",
                                           "mistral/mistral-large-latest", "mistral/mistral-small-latest", "mistral/codestral-latest"]
        let changedModels = Set(changed.filter { $0.hasSuffix(" input") || $0.hasSuffix(" output") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }).intersection(crossCheckKeys)
        #expect(changedModels == ["mistral/mistral-small-latest", "mistral/codestral-latest"])
    }

    @Test("retired models keep their last verified price")
    func retired() throws {
        let old = try Fixture.litellm("1.85.1")
        let new = try Fixture.litellm("1.109.1")
        let opus3 = key("anthropic", "claude-3-opus-20240229")
        #expect(old.observation(for: opus3) != nil)
        #expect(new.observation(for: opus3) == nil)
        // No observation: every field is noData and the current price survives.
        let current = try verifier.verify([try old.require(opus3)]).accepted
        let result = try verifier.verify([], current: current)
        #expect(result.accepted.input == perMillion("15"))
        #expect(result.status == .noData)
    }
}
