// Token counts of one call by kind, 64-bit, in the disjoint form costs are computed from.

/// Token counts by kind. After `CostCalculator.normalise`, `input`, `cacheRead` and
/// `cacheWrite` are disjoint (input is uncached input), and `reasoning` is the part of `output`
/// spent on reasoning (so `reasoning ≤ output`) — the same convention as BudgetCore's
/// `TokenUsage`. Before normalising, the counts mean whatever the provider reported
/// (see `UsageConvention`).
public struct TokenCounts: Sendable, Hashable, Codable {
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

    /// Every prompt token (uncached + cache read + cache write) of normalised counts: what
    /// long-context thresholds are compared with. Nil on overflow.
    public var promptTokens: Int64? {
        let (partial, overflowA) = input.addingReportingOverflow(cacheRead)
        let (total, overflowB) = partial.addingReportingOverflow(cacheWrite)
        return overflowA || overflowB ? nil : total
    }
}
