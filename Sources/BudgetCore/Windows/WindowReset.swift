// Audited window resets: a natural window (hour, day, week, month) cut at the instants someone
// started it again (sql/migrations/0009_window_resets.sql).
import Foundation

/// "Start the window of `period` (or of one limit) again at `resetAt`", for one budget.
public struct WindowReset: Sendable, Hashable {
    public var id: UUID
    public var budgetID: UUID
    /// Nil with a `limitID`: every time period of that limit.
    public var period: Period?
    /// Nil: every limit of the budget with `period`.
    public var limitID: UUID?
    public var resetAt: Date
    public var resetBy: String?
    public var reason: String?

    public init(id: UUID, budgetID: UUID, period: Period?, limitID: UUID?, resetAt: Date, resetBy: String?, reason: String?) {
        self.id = id
        self.budgetID = budgetID
        self.period = period
        self.limitID = limitID
        self.resetAt = resetAt
        self.resetBy = resetBy
        self.reason = reason
    }

    /// Whether this reset cuts the windows of `limit`.
    public func applies(to limit: Limit) -> Bool {
        budgetID == limit.budgetID && (limitID == nil || limitID == limit.id) && (period == nil || period == limit.period)
    }
}

extension Window {
    /// The part of this natural window that holds `instant`, once cut at `resets` (instants;
    /// those outside the window are ignored). The part before the first reset keeps the natural
    /// key, so counters of windows nobody reset stay as they are; a part starting at a reset is
    /// keyed by the natural key and the reset instant, so it gets a fresh counter row.
    /// Id-keyed windows (sessions, tasks) have no bounds and are never cut.
    public func cut(at resets: [Date], containing instant: Date) -> Window {
        guard let start, let end else { return self }
        var segmentStart = start
        var segmentEnd = end
        for reset in resets where reset > start && reset < end {
            if reset <= instant {
                segmentStart = max(segmentStart, reset)
            } else {
                segmentEnd = min(segmentEnd, reset)
            }
        }
        let segmentKey = segmentStart == start ? key : key + "@reset:" + InstantFormat.string(segmentStart)
        return Window(key: segmentKey, start: segmentStart, end: segmentEnd)
    }
}
