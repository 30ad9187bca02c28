// A model's per-token USD prices by kind, with optional batch, long-context and time-of-day prices.
import BudgetCore
import Foundation

/// USD per single token for each kind. Nil means the source does not state that kind
/// (it abstains); it never means free.
public struct PriceSet: Sendable, Hashable, Codable {
    public var input: Decimal?
    public var output: Decimal?
    public var cacheRead: Decimal?
    public var cacheWrite: Decimal?
    /// A distinct price for reasoning tokens; nil when they are billed as output (adapters drop
    /// a reasoning price that merely restates the output price).
    public var reasoning: Decimal?
    public var batchInput: Decimal?
    public var batchOutput: Decimal?
    /// Long-context tiers, ascending by threshold.
    public var contextTiers: [ContextTierPrice]
    /// Prices for calls made at certain hours of the UTC day, ascending by start; the prices above
    /// are those of the rest of the day.
    public var timesOfDay: [TimeOfDayPrice]

    public init(input: Decimal? = nil, output: Decimal? = nil, cacheRead: Decimal? = nil,
                cacheWrite: Decimal? = nil, reasoning: Decimal? = nil, batchInput: Decimal? = nil,
                batchOutput: Decimal? = nil, contextTiers: [ContextTierPrice] = [], timesOfDay: [TimeOfDayPrice] = []) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.batchInput = batchInput
        self.batchOutput = batchOutput
        self.contextTiers = contextTiers.sorted { $0.thresholdTokens < $1.thresholdTokens }
        self.timesOfDay = timesOfDay.sorted { $0.start < $1.start }
    }

    public subscript(field: PriceField) -> Decimal? {
        get {
            switch field {
            case .input: input
            case .output: output
            case .cacheRead: cacheRead
            case .cacheWrite: cacheWrite
            case .reasoning: reasoning
            case .batchInput: batchInput
            case .batchOutput: batchOutput
            }
        }
        set {
            switch field {
            case .input: input = newValue
            case .output: output = newValue
            case .cacheRead: cacheRead = newValue
            case .cacheWrite: cacheWrite = newValue
            case .reasoning: reasoning = newValue
            case .batchInput: batchInput = newValue
            case .batchOutput: batchOutput = newValue
            }
        }
    }

    /// True when at least one token price is stated.
    public var hasAnyTokenPrice: Bool { PriceField.allCases.contains { self[$0] != nil } }

    /// Plausibility warnings (CROSSCHECK §5): output cheaper than input catches swapped
    /// fields (LiteLLM 1.85.1 `command-r7b-12-2024`); a cache read at or above the input price
    /// is never a discount. Embedding models legitimately have no output price.
    public var sanityIssues: [SanityIssue] {
        var issues: [SanityIssue] = []
        if let input, let output, output > 0, output < input { issues.append(.outputBelowInput) }
        if let input, let cacheRead, input > 0, cacheRead >= input { issues.append(.cacheReadNotBelowInput) }
        return issues
    }

    public enum SanityIssue: String, Sendable, Hashable {
        case outputBelowInput = "output_below_input"
        case cacheReadNotBelowInput = "cache_read_not_below_input"
    }
}
