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
    /// Prices of the provider's batch API, where it has one.
    public var batchInput: Decimal?
    public var batchOutput: Decimal?
    /// Long-context prices, by ascending threshold.
    public var contextTiers: [ContextTier]
    /// Prices for calls made at certain hours of the UTC day (off-peak rates); the base prices
    /// are those of the rest of the day.
    public var timesOfDay: [TimeOfDayPrice]
    public var effectiveFrom: Date

    public init(id: UUID, provider: String, model: String, input: Decimal, output: Decimal,
                cacheRead: Decimal? = nil, cacheWrite: Decimal? = nil, reasoning: Decimal? = nil,
                batchInput: Decimal? = nil, batchOutput: Decimal? = nil, contextTiers: [ContextTier] = [],
                timesOfDay: [TimeOfDayPrice] = [], effectiveFrom: Date) {
        self.id = id
        self.provider = provider
        self.model = model
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.batchInput = batchInput
        self.batchOutput = batchOutput
        self.contextTiers = contextTiers.sorted { $0.thresholdTokens < $1.thresholdTokens }
        self.timesOfDay = timesOfDay.sorted { $0.start < $1.start }
        self.effectiveFrom = effectiveFrom
    }

    /// The prices a request pays: those of the hours it was made in (when `madeAt` falls in one
    /// of the price's windows of the day), then the tier for its input size (input + cache reads +
    /// cache writes above the threshold), then the batch prices when it went through a batch API.
    public func applicable(inputSize: Int64, batch: Bool, madeAt: Date? = nil) -> Price {
        var prices = madeAt.flatMap { madeAt in timesOfDay.first { $0.contains(madeAt) } }.map(during) ?? self
        if let tier = contextTiers.last(where: { inputSize > $0.thresholdTokens }) {
            prices.input = tier.input ?? prices.input
            prices.output = tier.output ?? prices.output
            prices.cacheRead = tier.cacheRead ?? prices.cacheRead
            prices.cacheWrite = tier.cacheWrite ?? prices.cacheWrite
        }
        if batch {
            prices.input = batchInput ?? prices.input
            prices.output = batchOutput ?? prices.output
        }
        return prices
    }

    /// The base prices as `window` replaces them, for a call made in its hours.
    func during(_ window: TimeOfDayPrice) -> Price {
        var prices = self
        prices.input = window.input ?? input
        prices.output = window.output ?? output
        prices.cacheRead = window.cacheRead ?? cacheRead
        prices.cacheWrite = window.cacheWrite ?? cacheWrite
        return prices
    }

    /// The prices, as they apply to a request of this size, at the hour of the day when
    /// `inputTokens` and `outputTokens` cost the most: what an estimate made before the call
    /// (at an hour it cannot know) must count on.
    public func dearest(inputTokens: Int64, outputTokens: Int64) -> Price {
        guard !timesOfDay.isEmpty else { return applicable(inputSize: inputTokens, batch: false) }   // the hot path's usual case
        let hours = [self] + timesOfDay.map(during)
        func total(_ price: Price) -> Decimal { Decimal(inputTokens) * price.input + Decimal(outputTokens) * price.output }
        return hours.map { $0.applicable(inputSize: inputTokens, batch: false) }.max { total($0) < total($1) }!
    }
}

/// Long-context prices: above `thresholdTokens` of input they replace the base prices for the whole request.
public struct ContextTier: Sendable, Hashable {
    public var thresholdTokens: Int64
    public var input: Decimal?
    public var output: Decimal?
    public var cacheRead: Decimal?
    public var cacheWrite: Decimal?

    public init(thresholdTokens: Int64, input: Decimal?, output: Decimal?, cacheRead: Decimal? = nil, cacheWrite: Decimal? = nil) {
        self.thresholdTokens = thresholdTokens
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }
}

public enum CostCalculator {
    /// Σ tokens of each kind × that kind's price, exactly. Cache reads and writes without a price
    /// of their own are charged at the input price (never free); reasoning tokens are part of
    /// output and cost the reasoning price only when the model has one.
    /// With `batch`, the batch prices apply; above a context tier's threshold, that tier's prices
    /// apply to the whole request.
    /// With `madeAt` (when the call was made), the prices of that time of day apply.
    public static func cost(of usage: TokenUsage, at basePrice: Price, batch: Bool = false, madeAt: Date? = nil) -> Decimal {
        let inputSize = usage.input.addingReportingOverflow(usage.cacheRead).partialValue.addingReportingOverflow(usage.cacheWrite).partialValue
        let price = basePrice.applicable(inputSize: inputSize, batch: batch, madeAt: madeAt)
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
    /// output at the output price, at the dearest hour of the day (the call is made later, at an
    /// hour the reservation cannot know).
    public static func estimate(inputTokens: Int64, maxOutputTokens: Int64, at basePrice: Price) -> Decimal {
        let price = basePrice.dearest(inputTokens: inputTokens, outputTokens: maxOutputTokens)
        return Decimal(inputTokens) * price.input + Decimal(maxOutputTokens) * price.output
    }
}
