import BudgetCore
import Foundation
import Testing

@Suite("Long-context tiers and batch prices decide the price of the whole request")
struct TierAndBatchCostTests {
    static let price = Price(
        id: UUID(), provider: "anthropic", model: "claude-sonnet-4-5",
        input: Decimal(string: "0.000003")!, output: Decimal(string: "0.000015")!,
        cacheRead: Decimal(string: "0.0000003")!, cacheWrite: Decimal(string: "0.00000375")!,
        batchInput: Decimal(string: "0.0000015")!, batchOutput: Decimal(string: "0.0000075")!,
        contextTiers: [ContextTier(thresholdTokens: 200_000, input: Decimal(string: "0.000006")!, output: Decimal(string: "0.0000225")!,
                                   cacheRead: Decimal(string: "0.0000006")!)],
        effectiveFrom: Date(timeIntervalSince1970: 0))

    @Test func atTheThresholdTheBasePricesApply() {
        // 200,000 input tokens is not above the threshold.
        let cost = CostCalculator.cost(of: TokenUsage(input: 200_000, output: 1_000), at: Self.price)
        #expect(cost == Decimal(string: "0.615"))   // 200000 × 0.000003 + 1000 × 0.000015
    }

    @Test func aboveTheThresholdTheTierPricesTheWholeRequest() {
        // Cache reads count towards the input size: 150,000 + 60,000 > 200,000.
        let cost = CostCalculator.cost(of: TokenUsage(input: 150_000, output: 2_000, cacheRead: 60_000), at: Self.price)
        // 150000 × 0.000006 + 2000 × 0.0000225 + 60000 × 0.0000006 = 0.9 + 0.045 + 0.036
        #expect(cost == Decimal(string: "0.981"))
    }

    @Test func batchPricesApplyToBatchRequests() {
        let usage = TokenUsage(input: 10_000, output: 2_000)
        #expect(CostCalculator.cost(of: usage, at: Self.price, batch: true) == Decimal(string: "0.03"))   // 0.015 + 0.015
        #expect(CostCalculator.cost(of: usage, at: Self.price, batch: false) == Decimal(string: "0.06"))
    }

    @Test func estimatesUseTheTierTheirInputFallsIn() {
        #expect(CostCalculator.estimate(inputTokens: 300_000, maxOutputTokens: 1_000, at: Self.price) == Decimal(string: "1.8225"))
    }
}
