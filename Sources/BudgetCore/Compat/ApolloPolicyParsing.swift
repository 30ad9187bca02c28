// Reading an Apollo policy from JSON as Apollo wrote it: `BudgetPolicy.model_dump()` (snake_case,
// enum values, naive ISO datetimes) in budget_policies.json, or the camelCase aliases of its API.
// Shared by `budget import apollo-policies` and the compatibility API's set-limit route.
import Foundation

public struct ApolloPolicyParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The offending field, in the spelling Apollo's file uses (snake_case).
    public var field: String
    public var message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension ApolloPolicy {
    /// The fields of a policy, each under its snake_case and camelCase spelling.
    static let fieldNames: [(snake: String, camel: String)] = [
        ("policy_id", "policyId"), ("type", "type"), ("period", "period"), ("tier", "tier"), ("component", "component"),
        ("task_type", "taskType"), ("limit", "limit"), ("warning_threshold", "warningThreshold"),
        ("action_threshold", "actionThreshold"), ("start_date", "startDate"), ("end_date", "endDate"),
        ("enabled", "enabled"), ("metadata", "metadata"),
    ]

    /// Parses one policy object. `policy_id` may be absent only when `newID` supplies one (the API
    /// creates ids; a policy file always has them). Unknown keys are ignored, as pydantic does.
    public static func parse(_ object: [String: JSONValue], newID: (() -> String)? = nil) throws(ApolloPolicyParseError) -> ApolloPolicy {
        func value(_ snake: String) -> JSONValue? {
            let camel = fieldNames.first { $0.snake == snake }?.camel ?? snake
            if let value = object[snake], value != .null { return value }
            if let value = object[camel], value != .null { return value }
            return nil
        }
        func string(_ field: String) throws(ApolloPolicyParseError) -> String? {
            guard let raw = value(field) else { return nil }
            guard case .string(let text) = raw else { throw ApolloPolicyParseError(field: field, "must be a string") }
            let trimmed = text.trimmingWhitespace()
            return trimmed.isEmpty ? nil : trimmed
        }
        func required(_ field: String) throws(ApolloPolicyParseError) -> String {
            guard let text = try string(field) else { throw ApolloPolicyParseError(field: field, "is required") }
            return text
        }
        func enumValue<E: RawRepresentable & CaseIterable>(_ field: String, _ type: E.Type) throws(ApolloPolicyParseError) -> E where E.RawValue == String {
            let raw = try required(field)
            // Apollo writes enum values ("hard_limit"); an enum member name ("HARD_LIMIT" or
            // "BudgetPolicyType.HARD_LIMIT") is accepted too.
            let name = raw.split(separator: ".").last.map(String.init)?.lowercased() ?? raw
            guard let parsed = E(rawValue: raw) ?? E(rawValue: name) else {
                throw ApolloPolicyParseError(field: field, "'\(raw)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return parsed
        }
        func decimal(_ field: String, default defaultValue: Decimal) throws(ApolloPolicyParseError) -> Decimal {
            switch value(field) {
            case nil: return defaultValue
            case .number(let text)?, .string(let text)?:
                guard let parsed = Decimal(exactly: text.trimmingWhitespace()) else { throw ApolloPolicyParseError(field: field, "'\(text)' is not a number") }
                return parsed
            default: throw ApolloPolicyParseError(field: field, "must be a number")
            }
        }
        func date(_ field: String) throws(ApolloPolicyParseError) -> Date? {
            guard let text = try string(field) else { return nil }
            guard let parsed = ApolloDate.parse(text) else {
                throw ApolloPolicyParseError(field: field, "'\(text)' is not an ISO 8601 date-time")
            }
            return parsed
        }

        let policyID: String
        if let given = try string("policy_id") {
            policyID = given
        } else if let newID {
            policyID = newID()
        } else {
            throw ApolloPolicyParseError(field: "policy_id", "is required")
        }
        let limit: Int64
        switch value("limit") {
        case .number(let text)?:
            guard let parsed = Int64(text) else { throw ApolloPolicyParseError(field: "limit", "must be a whole number of tokens, not \(text)") }
            limit = parsed
        case nil: throw ApolloPolicyParseError(field: "limit", "is required")
        default: throw ApolloPolicyParseError(field: "limit", "must be a whole number of tokens")
        }
        let enabled: Bool
        switch value("enabled") {
        case nil: enabled = true
        case .bool(let flag)?: enabled = flag
        default: throw ApolloPolicyParseError(field: "enabled", "must be true or false")
        }
        let metadata = value("metadata") ?? .object([:])
        guard case .object = metadata else { throw ApolloPolicyParseError(field: "metadata", "must be an object") }

        let policy = ApolloPolicy(
            policyID: policyID, type: try enumValue("type", ApolloPolicyType.self), period: try enumValue("period", ApolloPeriod.self),
            tier: try enumValue("tier", ApolloTier.self), component: try string("component"), taskType: try string("task_type"),
            limit: limit, warningThreshold: try decimal("warning_threshold", default: defaultWarningThreshold),
            actionThreshold: try decimal("action_threshold", default: defaultActionThreshold),
            startDate: try date("start_date"), endDate: try date("end_date"), enabled: enabled, metadata: metadata)
        switch policy.invalidity {
        case nil: return policy
        case .negativeLimit?: throw ApolloPolicyParseError(field: "limit", "must not be negative")
        case .warningThresholdOutOfRange?: throw ApolloPolicyParseError(field: "warning_threshold", "must be more than 0 and at most 1")
        case .emptyPolicyID?: throw ApolloPolicyParseError(field: "policy_id", "must not be empty")
        }
    }
}

/// Apollo's datetimes: `datetime.isoformat()` of naive local times ("2025-06-20T10:11:12.123456",
/// read as UTC), or ISO 8601 with a zone.
public enum ApolloDate {
    public static func parse(_ text: String) -> Date? {
        if let instant = InstantFormat.parse(text) { return instant }
        // Naive: no zone designator. Seconds (and fraction) are optional in isoformat() output.
        var naive = text
        if naive.count == 16 { naive += ":00" }       // YYYY-MM-DDTHH:MM
        if naive.count == 10 { naive += "T00:00:00" } // a date alone
        return InstantFormat.parse(naive.replacingOccurrences(of: " ", with: "T") + "Z")
    }
}
