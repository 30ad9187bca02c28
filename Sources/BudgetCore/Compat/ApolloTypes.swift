// Apollo's budget vocabulary (apollo/models/budget.py) and how each word maps onto Budget's.
// Pure values: the compatibility API and the policy importer both translate through here.
import Foundation

/// Apollo's model tiers. Budget stores them in the `tier` attribute of a scope.
public enum ApolloTier: String, Sendable, Codable, CaseIterable {
    case localLightweight = "local_lightweight"
    case localMidweight = "local_midweight"
    case remoteHeavyweight = "remote_heavyweight"
}

/// Apollo's periods: the same six as Budget's.
public enum ApolloPeriod: String, Sendable, Codable, CaseIterable {
    case hourly, daily, weekly, monthly
    case perSession = "per_session"
    case perTask = "per_task"

    public var period: Period {
        switch self {
        case .hourly: .hourly
        case .daily: .daily
        case .weekly: .weekly
        case .monthly: .monthly
        case .perSession: .perSession
        case .perTask: .perTask
        }
    }
}

/// Apollo's policy types. `soft_limit` becomes a warn limit (DESIGN: warn with downgrade) and
/// `hard_limit` an enforce limit, which — unlike in Apollo — really denies.
public enum ApolloPolicyType: String, Sendable, Codable, CaseIterable {
    case ignore, warn
    case softLimit = "soft_limit"
    case hardLimit = "hard_limit"

    public var policy: Policy {
        switch self {
        case .ignore: .ignore
        case .warn, .softLimit: .warn
        case .hardLimit: .enforce
        }
    }
}

/// Apollo's task priorities are integers 1…10 with four named values (LOW 1, NORMAL 5, HIGH 8,
/// CRITICAL 10). Only CRITICAL (10) bypasses a hard limit, as in Apollo (`priority < 10` is refused).
public struct ApolloPriority: Sendable, Hashable, Codable {
    public static let low = ApolloPriority(unchecked: 1)
    public static let normal = ApolloPriority(unchecked: 5)
    public static let high = ApolloPriority(unchecked: 8)
    public static let critical = ApolloPriority(unchecked: 10)
    public static let range = 1...10

    public let value: Int

    /// Nil outside 1…10 (Apollo's model validates `ge=1, le=10`).
    public init?(_ value: Int) {
        guard Self.range.contains(value) else { return nil }
        self.value = value
    }

    private init(unchecked value: Int) { self.value = value }

    /// Budget's priority: 10 critical, 8–9 high, 5–7 normal, 1–4 low.
    public var priority: Priority {
        switch value {
        case 10...: .critical
        case 8...: .high
        case 5...: .normal
        default: .low
        }
    }

    /// The named priority Apollo's default-allocation table has a column for, if any.
    public var named: NamedPriority? {
        switch value {
        case 1: .low
        case 5: .normal
        case 8: .high
        case 10: .critical
        default: nil
        }
    }

    public enum NamedPriority: Sendable, Hashable, CaseIterable {
        case low, normal, high, critical
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(Int.self)
        guard let value = ApolloPriority(raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "priority must be an integer from 1 to 10")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
