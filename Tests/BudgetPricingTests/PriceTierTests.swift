// Tests for Rhetor's price tiers and their boundaries.
import Foundation
import Testing
import BudgetPricing

@Suite("PriceTier")
struct PriceTierTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: String
        let output: String
        let tier: PriceTier
        var description: String { "\(input)+\(output) → \(tier)" }
    }

    @Test("tiers on (input + output) per 1K tokens", arguments: [
        Case(input: "0", output: "0", tier: .free),
        Case(input: "0.00000015", output: "0.0000006", tier: .low),          // gpt-4o-mini: $0.00075 / 1K
        Case(input: "0.000004999", output: "0.000005", tier: .low),          // $0.009999 / 1K
        Case(input: "0.000005", output: "0.000005", tier: .medium),          // exactly $0.01 / 1K
        Case(input: "0.0000025", output: "0.00001", tier: .medium),          // gpt-4o: $0.0125 / 1K
        Case(input: "0.00001", output: "0.0000399999", tier: .medium),       // $0.0499999 / 1K
        Case(input: "0.00001", output: "0.00004", tier: .high),              // exactly $0.05 / 1K
        Case(input: "0.000015", output: "0.000075", tier: .high),            // claude-opus-4: $0.09 / 1K
    ])
    func tiers(_ example: Case) {
        #expect(PriceTier.classify(inputPerToken: dec(example.input), outputPerToken: dec(example.output)) == example.tier)
    }

    @Test("an unknown price has no tier (unknown is not free)")
    func unknown() throws {
        #expect(PriceTier(prices: PriceSet(input: perMillion("1"))) == nil)
        #expect(PriceTier(prices: try Fixture.litellm().require(key("openai", "gpt-4o")).prices) == .medium)
    }
}
