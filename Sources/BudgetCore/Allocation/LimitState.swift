// Where a limit's current window stands, and what a request would do to it.
import Foundation

public enum LimitHealth: String, Sendable, Codable {
    case ok, warning, exceeded
}

/// A window's counters against its limit's amount.
public struct LimitState: Sendable, Hashable {
    public var applicable: ApplicableLimit
    public var spent: Decimal
    public var reserved: Decimal

    public init(applicable: ApplicableLimit, spent: Decimal, reserved: Decimal) {
        self.applicable = applicable
        self.spent = spent
        self.reserved = reserved
    }

    public var amount: Decimal { applicable.limit.amount }

    /// What is left after spend and reservations; negative when overrun (spend is never refused).
    public var remaining: Decimal { amount - spent - reserved }

    public var health: LimitHealth { Self.health(used: spent + reserved, amount: amount, warnAt: applicable.limit.warnAt) }

    public static func health(used: Decimal, amount: Decimal, warnAt: Decimal) -> LimitHealth {
        if used > amount || (amount == 0 && used > 0) { return .exceeded }
        if amount > 0 && used >= amount * warnAt { return .warning }
        return .ok
    }

    /// Whether reserving `amount` more keeps the invariant `spent + reserved + estimate <= amount`.
    public func admits(_ request: Decimal) -> Bool {
        spent + reserved + request <= amount
    }

    /// The state after reserving `request`.
    public func projected(adding request: Decimal) -> LimitHealth {
        Self.health(used: spent + reserved + request, amount: amount, warnAt: applicable.limit.warnAt)
    }
}
