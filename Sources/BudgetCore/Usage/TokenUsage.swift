// Token counts of one call, by kind, as 64-bit integers.

/// Token counts by kind. The kinds are disjoint except reasoning: `input` is uncached input
/// (cache reads and writes are counted apart, as Anthropic reports them), and `reasoning` is the
/// part of `output` spent on reasoning (as OpenAI and Anthropic report it), so it is at most `output`.
public struct TokenUsage: Sendable, Hashable {
    public var input: Int64
    public var output: Int64
    public var cacheRead: Int64
    public var cacheWrite: Int64
    public var reasoning: Int64

    public init(input: Int64 = 0, output: Int64 = 0, cacheRead: Int64 = 0, cacheWrite: Int64 = 0, reasoning: Int64 = 0) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
    }

    /// What a `tokens` limit counts: every token billed (reasoning is already inside output).
    /// Nil when the sum does not fit in 64 bits.
    public var total: Int64? {
        var sum: Int64 = 0
        for part in [input, output, cacheRead, cacheWrite] {
            let (result, overflow) = sum.addingReportingOverflow(part)
            if overflow { return nil }
            sum = result
        }
        return sum
    }
}

/// How a usage record's cost was established.
public enum PricingStatus: String, Sendable, Codable {
    /// Tokens × the model's price version.
    case priced
    /// The caller stated the cost.
    case callerPriced = "caller_priced"
    /// No price was known: the cost is unknown (never silently $0) and can be repriced later.
    case unpriced
}

extension TokenUsage: Codable {
    enum CodingKeys: String, CodingKey {
        case input = "input_tokens"
        case output = "output_tokens"
        case cacheRead = "cache_read_tokens"
        case cacheWrite = "cache_write_tokens"
        case reasoning = "reasoning_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try container.decodeIfPresent(Int64.self, forKey: .input) ?? 0
        output = try container.decodeIfPresent(Int64.self, forKey: .output) ?? 0
        cacheRead = try container.decodeIfPresent(Int64.self, forKey: .cacheRead) ?? 0
        cacheWrite = try container.decodeIfPresent(Int64.self, forKey: .cacheWrite) ?? 0
        reasoning = try container.decodeIfPresent(Int64.self, forKey: .reasoning) ?? 0
    }
}
