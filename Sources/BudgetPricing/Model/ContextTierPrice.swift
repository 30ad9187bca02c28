// Long-context prices that replace the base prices above an input-size threshold.
import Foundation

/// Prices that apply to a whole request once its prompt exceeds `thresholdTokens`
/// (e.g. Gemini 2.5 Pro above 200 000 input tokens). Kinds left nil fall back to the base price.
public struct ContextTierPrice: Sendable, Hashable, Codable {
    /// The tier applies when prompt tokens are strictly greater than this.
    public var thresholdTokens: Int64
    public var input: Decimal?
    public var output: Decimal?
    public var cacheRead: Decimal?
    public var cacheWrite: Decimal?

    public init(thresholdTokens: Int64, input: Decimal? = nil, output: Decimal? = nil,
                cacheRead: Decimal? = nil, cacheWrite: Decimal? = nil) {
        self.thresholdTokens = thresholdTokens
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }

    /// The tier's price for a kind it can state (input, output, cache read, cache write).
    public subscript(field: PriceField) -> Decimal? {
        get {
            switch field {
            case .input: input
            case .output: output
            case .cacheRead: cacheRead
            case .cacheWrite: cacheWrite
            case .reasoning, .batchInput, .batchOutput: nil
            }
        }
        set {
            switch field {
            case .input: input = newValue
            case .output: output = newValue
            case .cacheRead: cacheRead = newValue
            case .cacheWrite: cacheWrite = newValue
            case .reasoning, .batchInput, .batchOutput: break  // tiers do not state these
            }
        }
    }

    public var isEmpty: Bool { input == nil && output == nil && cacheRead == nil && cacheWrite == nil }
}
