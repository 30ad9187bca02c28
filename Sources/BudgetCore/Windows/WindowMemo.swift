// The natural time windows last computed, by zone and period. A window holds for every instant
// from its start to its end, so nearly every call reuses the last one instead of redoing the
// calendar arithmetic (a tenth of the hot path's own work in the profile).
import Foundation
import Synchronization

final class WindowMemo: Sendable {
    private struct Key: Hashable {
        var timeZone: TimeZone
        var period: Period
    }

    private let windows = Mutex<[Key: Window]>([:])

    /// The window of a time period (hourly, daily, weekly, monthly) holding `instant`.
    func window(of period: Period, calendar: Calendar, at instant: Date) -> Window? {
        let key = Key(timeZone: calendar.timeZone, period: period)
        if let known = windows.withLock({ $0[key] }), let start = known.start, let end = known.end, start <= instant, instant < end {
            return known
        }
        guard let window = Window.containing(instant, period: period, calendar: calendar, scope: Scope()) else { return nil }
        windows.withLock { $0[key] = window }
        return window
    }
}
