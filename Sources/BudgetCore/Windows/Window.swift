// Limit windows computed from event time in the budget's zone: no reset job exists.
import Foundation

/// The span a limit's counter covers. Time windows have a start and an end; per-session and
/// per-task windows are keyed by the caller's id and have neither.
public struct Window: Sendable, Hashable {
    /// Stable key of the window within its limit: the UTC start instant, or "session:<id>" / "task:<id>".
    public var key: String
    public var start: Date?
    public var end: Date?

    public init(key: String, start: Date?, end: Date?) {
        self.key = key
        self.start = start
        self.end = end
    }

    /// The window of `period` containing `instant`, or nil when the period is keyed by a session
    /// or task id that the scope does not carry (the limit then does not apply to the call).
    public static func containing(_ instant: Date, period: Period, timeZone: TimeZone, scope: Scope) -> Window? {
        containing(instant, period: period, calendar: gregorian(in: timeZone), scope: scope)
    }

    /// A Gregorian calendar in `timeZone`; build it once per zone and reuse it (it is not cheap).
    public static func gregorian(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    public static func containing(_ instant: Date, period: Period, calendar: Calendar, scope: Scope) -> Window? {
        switch period {
        case .perSession:
            guard let id = scope.sessionID?.trimmingWhitespace(), !id.isEmpty else { return nil }
            return Window(key: "session:" + id, start: nil, end: nil)
        case .perTask:
            guard let id = scope.taskID?.trimmingWhitespace(), !id.isEmpty else { return nil }
            return Window(key: "task:" + id, start: nil, end: nil)
        case .hourly, .daily, .weekly, .monthly:
            let (start, end) = bounds(of: instant, period: period, calendar: calendar)
            return Window(key: WindowKey.format(start), start: start, end: end)
        }
    }

    /// Start and end instants. Starts are found from local wall-clock fields, so a 23- or 25-hour
    /// day is simply the distance between two local midnights.
    static func bounds(of instant: Date, period: Period, calendar: Calendar) -> (Date, Date) {
        switch period {
        case .hourly:
            // An hour is the same 3600 s in every zone whose offset is whole hours; in zones with
            // half-hour offsets the local hour still starts at :00 local time.
            let start = calendar.dateInterval(of: .hour, for: instant)!.start
            return (start, start.addingTimeInterval(3600))
        case .daily:
            let start = calendar.startOfDay(for: instant)
            let end = calendar.date(byAdding: .day, value: 1, to: start).map(calendar.startOfDay(for:))!
            return (start, end)
        case .weekly:
            // Weeks start on Monday 00:00 local time (ISO 8601).
            var iso = calendar
            iso.firstWeekday = 2
            iso.minimumDaysInFirstWeek = 4
            let start = iso.startOfDay(for: iso.dateInterval(of: .weekOfYear, for: instant)!.start)
            let end = iso.date(byAdding: .day, value: 7, to: start).map(iso.startOfDay(for:))!
            return (start, end)
        case .monthly:
            let components = calendar.dateComponents([.year, .month], from: instant)
            let start = calendar.date(from: components)!
            // When local midnight of the 1st was skipped, `start` is later than 00:00 on the wall
            // clock; the next month still begins at the first instant of its 1st.
            let end = calendar.date(byAdding: .month, value: 1, to: start).map(calendar.startOfDay(for:))!
            return (start, end)
        case .perSession, .perTask:
            preconditionFailure("id-keyed periods have no bounds")
        }
    }

    /// Seconds from `instant` until the window ends (for Retry-After), at least 1.
    public func secondsRemaining(from instant: Date) -> Int? {
        guard let end else { return nil }
        return max(1, Int(end.timeIntervalSince(instant).rounded(.up)))
    }
}

enum WindowKey {
    static func format(_ date: Date) -> String {
        InstantFormat.seconds(date)
    }
}
