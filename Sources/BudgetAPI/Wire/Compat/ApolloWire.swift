// Apollo's wire shapes (pydantic models of apollo/models/budget.py serialised with their
// camelCase aliases), and a reader for request bodies that takes snake_case or camelCase keys.
import BudgetCore
import BudgetStore
import Foundation

/// A JSON object whose members may be spelled `snake_case` or `camelCase`; every bad value is a
/// 400 naming the field as the caller spelled it.
struct ApolloObject {
    let members: [String: JSONValue]

    init(_ value: JSONValue) throws {
        guard case .object(let members) = value else { throw APIError.badRequest("the body must be a JSON object") }
        self.members = members
    }

    static func camel(_ snake: String) -> String {
        var result = ""
        var upper = false
        for character in snake {
            if character == "_" { upper = true; continue }
            result += upper ? character.uppercased() : String(character)
            upper = false
        }
        return result
    }

    /// The member under either spelling (null counts as absent), with the spelling found.
    func raw(_ snake: String) -> (JSONValue, String)? {
        for name in [snake, Self.camel(snake)] {
            if let value = members[name], value != .null { return (value, name) }
        }
        return nil
    }

    func string(_ snake: String, maxLength: Int = 500) throws -> String? {
        guard let (value, name) = raw(snake) else { return nil }
        guard case .string(let text) = value else { throw APIError.badRequest("\(name) must be a string", field: name) }
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        guard trimmed.count <= maxLength else { throw APIError.badRequest("\(name) must be at most \(maxLength) characters", field: name) }
        return trimmed
    }

    func requiredString(_ snake: String) throws -> String {
        guard let text = try string(snake) else { throw APIError.badRequest("\(snake) is required", field: snake) }
        return text
    }

    /// A whole number (token counts are integers; "1.5" or 1e3 written as a fraction is refused).
    func integer(_ snake: String) throws -> Int64? {
        guard let (value, name) = raw(snake) else { return nil }
        guard case .number(let text) = value, let number = Int64(text) else {
            throw APIError.badRequest("\(name) must be a whole number", field: name)
        }
        return number
    }

    func object(_ snake: String) throws -> JSONValue {
        guard let (value, name) = raw(snake) else { return .object([:]) }
        guard case .object = value else { throw APIError.badRequest("\(name) must be an object", field: name) }
        return value
    }

    func instant(_ snake: String) throws -> Date? {
        guard let text = try string(snake) else { return nil }
        guard let date = ApolloDate.parse(text) else {
            throw APIError.badRequest("\(snake) must be an ISO 8601 date-time", field: raw(snake)?.1 ?? snake)
        }
        return date
    }
}

enum ApolloWire {
    /// `BudgetAllocation` (+ Apollo's properties and what Budget adds: bypass, status).
    static func allocation(_ a: ApolloAllocation, now: Date = Date()) -> JSONValue {
        let percentage = a.tokensAllocated > 0 ? ratio(a.tokensUsed, a.tokensAllocated) : .number("0")
        return .object([
            "allocationId": .id(a.allocationID), "contextId": .string(a.contextID), "component": .text(a.component),
            "tier": .string(a.tier.rawValue), "provider": .text(a.provider), "model": .text(a.model), "taskType": .string(a.taskType),
            "priority": .number(String(a.priority)), "tokensAllocated": .integer(a.tokensAllocated), "tokensUsed": .integer(a.tokensUsed),
            "creationTime": .instant(a.createdAt), "expirationTime": .instant(a.expiresAt), "isActive": .bool(a.isActive),
            "metadata": a.metadata,
            "remainingTokens": .integer(a.remainingTokens), "usagePercentage": percentage, "isExpired": .bool(a.status == "expired"),
            "overuseTokens": .integer(a.overuseTokens), "bypass": .bool(a.bypass), "status": .string(a.state),
        ])
    }

    /// One entry of Apollo's tier tables set at run time.
    static func tierEntry(_ entry: ApolloTierOverride) -> [String: JSONValue] {
        ["kind": .string(entry.kind.rawValue), "name": .string(entry.name), "tier": .string(entry.tier.rawValue),
         "updatedAt": .instant(entry.updatedAt)]
    }

    /// `BudgetUsageRecord`.
    static func usageRecord(_ record: LedgerRecord, allocation: ApolloAllocation, usageType: String, operationID: String?, metadata: JSONValue) -> JSONValue {
        .object([
            "recordId": .id(record.id), "allocationId": .id(allocation.allocationID), "contextId": .string(allocation.contextID),
            "component": .text(allocation.component), "provider": .string(allocation.provider ?? "unknown"),
            "model": .string(allocation.model ?? "unknown"), "taskType": .string(allocation.taskType),
            "tokensUsed": .integer(record.usage.total ?? Int64.max), "usageType": .string(usageType),
            "timestamp": .instant(record.occurredAt), "operationId": .text(operationID), "metadata": metadata,
            "costUsd": .text(record.costUSD), "pricingStatus": .string(record.pricingStatus.rawValue),
        ])
    }

    /// `BudgetPolicy`, and the Budget limit it is.
    static func policy(_ stored: ApolloCompatRepository.StoredPolicy) -> JSONValue {
        let p = stored.policy
        return .object([
            "policyId": .string(p.policyID), "type": .string(p.type.rawValue), "period": .string(p.period.rawValue),
            "tier": .string(p.tier.rawValue), "component": .text(p.component), "taskType": .text(p.taskType),
            "limit": .integer(p.limit), "warningThreshold": .number(p.warningThreshold.plainText),
            "actionThreshold": .number(p.actionThreshold.plainText), "startDate": .instant(p.startDate), "endDate": .instant(p.endDate),
            "enabled": .bool(p.enabled), "metadata": p.metadata,
            "limitId": .id(stored.limitID), "limitVersion": .number(String(stored.limitVersion)), "budgetPolicy": .string(stored.budgetPolicy.rawValue),
        ])
    }

    /// A ratio as a JSON number with six decimals (a fraction, not money).
    static func ratio(_ part: Int64, _ whole: Int64) -> JSONValue {
        var value = Decimal(part) / Decimal(whole)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 6, .plain)
        return .number(rounded.plainText)
    }
}
