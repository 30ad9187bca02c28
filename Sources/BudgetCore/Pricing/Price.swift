// A model's price version and the cost of a call under it.
import Foundation

/// USD per token for each kind of token, for one provider and model, from `effectiveFrom` on.
public struct Price: Sendable, Hashable {
    public var id: UUID
    public var provider: String
    public var model: String
    public var input: Decimal
    public var output: Decimal
    public var cacheRead: Decimal?
    public var cacheWrite: Decimal?
    public var reasoning: Decimal?
    public var effectiveFrom: Date

    public init(id: UUID, provider: String, model: String, input: Decimal, output: Decimal,
                cacheRead: Decimal? = nil, cacheWrite: Decimal? = nil, reasoning: Decimal? = nil, effectiveFrom: Date) {
        self.id = id
        self.provider = provider
        self.model = model
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.effectiveFrom = effectiveFrom
    }
}

public enum CostCalculator {
    /// Σ tokens of each kind × that kind's price, exactly. Cache reads and writes without a price
    /// of their own are charged at the input price (never free); reasoning tokens are part of
    /// output and cost the reasoning price only when the model has one.
    public static func cost(of usage: TokenUsage, at price: Price) -> Decimal {
        let plainOutput = usage.output - (price.reasoning == nil ? 0 : usage.reasoning)
        var cost = Decimal(usage.input) * price.input
        cost += Decimal(plainOutput) * price.output
        cost += Decimal(usage.cacheRead) * (price.cacheRead ?? price.input)
        cost += Decimal(usage.cacheWrite) * (price.cacheWrite ?? price.input)
        if let reasoningPrice = price.reasoning {
            cost += Decimal(usage.reasoning) * reasoningPrice
        }
        return cost
    }

    /// The most an allocation estimate can cost: all input at the input price and the maximum
    /// output at the output price.
    public static func estimate(inputTokens: Int64, maxOutputTokens: Int64, at price: Price) -> Decimal {
        Decimal(inputTokens) * price.input + Decimal(maxOutputTokens) * price.output
    }
}
