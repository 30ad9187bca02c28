// A limit: within a budget, how much of a metric the calls matching a filter may use per period.
import Foundation

public enum Period: String, Sendable, Codable, CaseIterable {
    case hourly, daily, weekly, monthly
    case perSession = "per_session"
    case perTask = "per_task"

    /// A stretch of the calendar (not a session's or a task's windows, which are keyed by id):
    /// only these can be reset.
    public var isTimePeriod: Bool {
        switch self {
        case .hourly, .daily, .weekly, .monthly: true
        case .perSession, .perTask: false
        }
    }
}

public enum Metric: String, Sendable, Codable, CaseIterable {
    case costUSD = "cost_usd"
    case tokens
}

public enum Policy: String, Sendable, Codable, CaseIterable {
    /// Track only.
    case ignore
    /// Allow, but warn (and record the threshold crossing).
    case warn
    /// Deny past the limit.
    case enforce
}

public enum Priority: String, Sendable, Codable, CaseIterable {
    case low, normal, high
    /// May exceed an enforce limit; recorded as a bypass.
    case critical
}

/// One version of a limit. Changing amount, policy or warn_at makes a new version; what a limit
/// counts (filter, period, metric) never changes for a limit id, so its window counters stay valid.
public struct Limit: Sendable, Hashable {
    public var id: UUID
    public var version: Int
    public var budgetID: UUID
    public var filter: ScopeFilter
    public var period: Period
    public var metric: Metric
    public var amount: Decimal
    public var policy: Policy
    public var warnAt: Decimal
    /// Further fractions of `amount` that raise an alert (nil: `warn_at` only); see `AlertThresholds`.
    public var thresholds: [Decimal]?
    public var validFrom: Date
    public var validTo: Date?

    public init(id: UUID, version: Int, budgetID: UUID, filter: ScopeFilter, period: Period, metric: Metric,
                amount: Decimal, policy: Policy, warnAt: Decimal = Decimal(string: "0.8")!, thresholds: [Decimal]? = nil,
                validFrom: Date, validTo: Date? = nil) {
        self.id = id
        self.version = version
        self.budgetID = budgetID
        self.filter = filter
        self.period = period
        self.metric = metric
        self.amount = amount
        self.policy = policy
        self.warnAt = warnAt
        self.thresholds = thresholds
        self.validFrom = validFrom
        self.validTo = validTo
    }

    /// Every threshold the limit alerts at, `warn_at` included, ascending.
    public var effectiveThresholds: [Decimal] { AlertThresholds.effective(warnAt: warnAt, thresholds: thresholds) }
}

/// A budget as the engine needs it: its zone and whether it counts at all.
public struct BudgetInfo: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var timeZone: TimeZone { calendar.timeZone }
    public var active: Bool
    /// Gregorian, in the budget's zone: built once, used for every window.
    public let calendar: Calendar

    public init(id: UUID, name: String, timeZone: TimeZone, active: Bool) {
        self.id = id
        self.name = name
        self.active = active
        self.calendar = Window.gregorian(in: timeZone)
    }
}
