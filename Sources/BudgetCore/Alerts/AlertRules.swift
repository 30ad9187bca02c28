// Alerts: their types and severities, a limit's effective thresholds, webhook signatures and the
// retry schedule of webhook deliveries. Pure rules; the store raises alerts, the API delivers them.
import Foundation

/// The kinds of alert (the `type` of a `budget_events` row).
public enum AlertType: String, Sendable, Codable, CaseIterable {
    case thresholdCrossed = "threshold_crossed"
    case limitExceeded = "limit_exceeded"
    case allocationDenied = "allocation_denied"
    case criticalBypass = "critical_bypass"
    case unpricedUsage = "unpriced_usage"
    case priceChanged = "price_changed"
    case priceConflict = "price_conflict"
    case priceSyncFailed = "price_sync_failed"

    /// Alerts about prices and unknown models belong to no budget.
    public var isGlobal: Bool {
        switch self {
        case .unpricedUsage, .priceChanged, .priceConflict, .priceSyncFailed: return true
        case .thresholdCrossed, .limitExceeded, .allocationDenied, .criticalBypass: return false
        }
    }
}

public enum AlertSeverity: String, Sendable, Codable, CaseIterable {
    case info, warning, critical

    /// A threshold at or past the whole amount is critical; below it, a warning. Money went (or
    /// would have gone) past a limit: critical. Unknown prices and failing sources need a person
    /// soon: warning. A verified price change is news.
    public static func of(_ type: AlertType, threshold: Decimal?) -> AlertSeverity {
        switch type {
        case .thresholdCrossed: return (threshold ?? 0) >= 1 ? .critical : .warning
        case .limitExceeded, .allocationDenied, .criticalBypass: return .critical
        case .unpricedUsage, .priceConflict, .priceSyncFailed: return .warning
        case .priceChanged: return .info
        }
    }
}

public enum AlertThresholds {
    /// The largest threshold: half as much again as the amount (an alert for a limit run well over).
    public static let maximum = Decimal(string: "1.5")!
    public static let maximumCount = 20

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case outOfRange(Decimal)
        case empty
        case tooMany(Int)

        public var description: String {
            switch self {
            case .outOfRange(let value): return "threshold \(value.plainText) must be greater than 0 and at most \(maximum.plainText)"
            case .empty: return "thresholds must not be empty (leave it out, or null, for warn_at only)"
            case .tooMany(let count): return "at most \(maximumCount) thresholds, not \(count)"
            }
        }
    }

    /// Checks a list given for a limit and returns it sorted, without duplicates.
    public static func validated(_ values: [Decimal]) throws(Problem) -> [Decimal] {
        guard !values.isEmpty else { throw .empty }
        guard values.count <= maximumCount else { throw .tooMany(values.count) }
        for value in values where !(value > 0 && value <= maximum) { throw .outOfRange(value) }
        return Array(Set(values)).sorted()
    }

    /// The thresholds a limit alerts at: its list plus `warn_at`, ascending, each once.
    public static func effective(warnAt: Decimal, thresholds: [Decimal]?) -> [Decimal] {
        Array(Set((thresholds ?? []) + [warnAt])).sorted()
    }

    /// The thresholds `used` has reached (of `amount`), of those given.
    public static func reached(_ thresholds: [Decimal], used: Decimal, amount: Decimal) -> [Decimal] {
        guard amount > 0 else { return [] }
        return thresholds.filter { used >= amount * $0 }
    }
}

/// The `X-Budget-Signature` header of a webhook POST: `sha256=` and the lower-case hex of
/// HMAC-SHA256(secret, exact body bytes). BudgetCore formats and compares; the API computes the MAC.
public enum WebhookSignature {
    public static let headerName = "X-Budget-Signature"
    public static let prefix = "sha256="

    public static func header(mac: some Sequence<UInt8>) -> String {
        prefix + HexText.lowercase(mac)
    }

    /// The MAC bytes of a header value, or nil when it is not `sha256=<64 hex digits>`.
    public static func mac(fromHeader value: String) -> [UInt8]? {
        guard value.hasPrefix(prefix) else { return nil }
        let hex = Array(value.dropFirst(prefix.count).utf8)
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < hex.count {
            guard let high = HexText.value(of: hex[index]), let low = HexText.value(of: hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Compares in time independent of where the first difference is.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// When a failed webhook delivery is tried again: after 5 s, 30 s, 2 min, 10 min and 1 h; a
/// delivery whose last attempt failed after that is given up (status `failed`).
public struct WebhookRetryPolicy: Sendable, Hashable {
    public var delays: [Duration]

    public init(delays: [Duration]) {
        self.delays = delays
    }

    public static let standard = WebhookRetryPolicy(delays: [.seconds(5), .seconds(30), .seconds(120), .seconds(600), .seconds(3600)])

    /// Attempts in all: the first and one per delay.
    public var maximumAttempts: Int { delays.count + 1 }

    /// The wait after failed attempt number `attempt` (1-based), or nil: give up.
    public func delay(afterFailedAttempt attempt: Int) -> Duration? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        return delays[attempt - 1]
    }
}
