// Apollo's built-in numbers (TokenBudgetManager.DEFAULT_LIMITS and DEFAULT_ALLOCATIONS), kept
// exactly, so the compatibility API sizes allocations and seeds policies as Apollo did.

public enum ApolloDefaults {
    /// One default policy: Apollo's `_create_default_policies` makes a WARN policy per cell.
    public struct DefaultPolicy: Sendable, Hashable {
        public var tier: ApolloTier
        public var period: ApolloPeriod
        public var limit: Int64

        /// A stable policy id, so seeding twice (or on two instances) yields the same policies.
        public var policyID: String { "default-\(tier.rawValue)-\(period.rawValue)" }
    }

    /// DEFAULT_LIMITS in tokens: hourly, daily and per session per tier (no weekly or monthly).
    public static let limits: [DefaultPolicy] = [
        .init(tier: .localLightweight, period: .hourly, limit: 1_000_000),
        .init(tier: .localLightweight, period: .daily, limit: 10_000_000),
        .init(tier: .localLightweight, period: .perSession, limit: 8_000),
        .init(tier: .localMidweight, period: .hourly, limit: 500_000),
        .init(tier: .localMidweight, period: .daily, limit: 5_000_000),
        .init(tier: .localMidweight, period: .perSession, limit: 16_000),
        .init(tier: .remoteHeavyweight, period: .hourly, limit: 100_000),
        .init(tier: .remoteHeavyweight, period: .daily, limit: 1_000_000),
        .init(tier: .remoteHeavyweight, period: .perSession, limit: 32_000),
    ]

    /// DEFAULT_ALLOCATIONS: tokens by task type and named priority (LOW, NORMAL, HIGH, CRITICAL).
    static let allocations: [String: [ApolloPriority.NamedPriority: Int64]] = [
        "default": [.low: 1000, .normal: 2000, .high: 4000, .critical: 8000],
        "chat": [.low: 2000, .normal: 4000, .high: 8000, .critical: 16000],
        "coding": [.low: 4000, .normal: 8000, .high: 16000, .critical: 32000],
        "analysis": [.low: 4000, .normal: 8000, .high: 16000, .critical: 32000],
    ]

    /// The size of an allocation made without `token_count`, as Apollo computes it: a known task
    /// type with an unnamed priority (say 7) takes that type's NORMAL size; an unknown task type
    /// takes the `default` NORMAL size whatever the priority.
    public static func allocationSize(taskType: String, priority: ApolloPriority) -> Int64 {
        guard let row = allocations[taskType] else { return allocations["default"]![.normal]! }
        return row[priority.named ?? .normal] ?? row[.normal]!
    }
}
