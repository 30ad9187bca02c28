// How domain values look on the wire (snake_case, money as decimal strings, nulls spelled out).
import BudgetCore
import BudgetStore
import Foundation

extension JSONValue {
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func money(_ value: Decimal?) -> JSONValue { value.map { .string($0.plainText) } ?? .null }
    static func integer(_ value: Int64) -> JSONValue { .number(String(value)) }
    static func instant(_ value: Date?) -> JSONValue { value.map { .string(InstantFormat.string($0)) } ?? .null }
    static func id(_ value: UUID?) -> JSONValue { value.map { .string($0.lowercasedText) } ?? .null }
}

enum Views {
    static func budget(_ budget: Budget) -> JSONValue {
        .object([
            "id": .id(budget.id), "name": .string(budget.name), "owner": .text(budget.owner), "description": .text(budget.description),
            "timezone": .string(budget.timeZone), "active": .bool(budget.active),
            "created_at": .instant(budget.createdAt), "updated_at": .instant(budget.updatedAt),
        ])
    }

    static func windowReset(_ reset: WindowReset) -> JSONValue {
        .object([
            "id": .id(reset.id), "budget_id": .id(reset.budgetID), "period": .text(reset.period?.rawValue), "limit_id": .id(reset.limitID),
            "reset_at": .instant(reset.resetAt), "reset_by": .text(reset.resetBy), "reason": .text(reset.reason),
        ])
    }

    static func filter(_ filter: ScopeFilter) -> JSONValue {
        .object([
            "component": .text(filter.component), "provider": .text(filter.provider), "model": .text(filter.model),
            "task_type": .text(filter.taskType), "tier": .text(filter.tier), "tag": .text(filter.tag),
        ])
    }

    static func limit(_ limit: Limit) -> JSONValue {
        .object([
            "id": .id(limit.id), "budget_id": .id(limit.budgetID), "version": .integer(Int64(limit.version)),
            "scope": filter(limit.filter), "period": .string(limit.period.rawValue), "metric": .string(limit.metric.rawValue),
            "amount": .money(limit.amount), "policy": .string(limit.policy.rawValue), "warn_at": .money(limit.warnAt),
            "thresholds": limit.thresholds.map { .array($0.map { .string($0.plainText) }) } ?? .null,
            "effective_thresholds": .array(limit.effectiveThresholds.map { .string($0.plainText) }),
            "valid_from": .instant(limit.validFrom), "valid_to": .instant(limit.validTo),
        ])
    }

    static func scope(_ scope: Scope) -> JSONValue {
        .object([
            "component": .text(scope.component), "provider": .text(scope.provider), "model": .text(scope.model),
            "task_type": .text(scope.taskType), "tier": .text(scope.tier), "tags": .array(scope.tags.map(JSONValue.string)),
            "session_id": .text(scope.sessionID), "task_id": .text(scope.taskID),
        ])
    }

    static func usage(_ usage: TokenUsage) -> JSONValue {
        .object([
            "input_tokens": .integer(usage.input), "output_tokens": .integer(usage.output),
            "cache_read_tokens": .integer(usage.cacheRead), "cache_write_tokens": .integer(usage.cacheWrite),
            "reasoning_tokens": .integer(usage.reasoning),
        ])
    }

    /// A limit's window: counters, what remains and its state.
    static func limitState(_ spec: WindowSpec) -> JSONValue {
        let amount = Decimal(exactly: spec.amount) ?? 0
        let spent = Decimal(exactly: spec.spent ?? "0") ?? 0
        let reserved = Decimal(exactly: spec.reserved ?? "0") ?? 0
        let warnAt = Decimal(exactly: spec.warnAt) ?? 1
        let used = spent + reserved
        let state = LimitState.health(used: used, amount: amount, warnAt: warnAt).rawValue
        return .object([
            "limit_id": .id(spec.limitID), "budget_id": .id(spec.budgetID), "budget_name": .string(spec.budgetName),
            "scope": filter(spec.scope), "period": .string(spec.period), "metric": .string(spec.metric), "policy": .string(spec.policy),
            "window_key": .string(spec.windowKey), "window_start": .instant(spec.windowStart), "window_end": .instant(spec.windowEnd),
            "amount": .money(amount), "spent": .money(spent), "reserved": .money(reserved), "remaining": .money(amount - used),
            "state": .string(state),
        ])
    }

    static func record(_ record: LedgerRecord) -> JSONValue {
        .object([
            "id": .id(record.id), "occurred_at": .instant(record.occurredAt), "scope": scope(record.scope), "usage": usage(record.usage),
            "cost_usd": .text(record.costUSD.flatMap { Decimal(exactly: $0)?.plainText }), "pricing_status": .string(record.pricingStatus.rawValue),
            "price_id": .id(record.priceID), "allocation_id": .id(record.allocationID), "request_id": .text(record.requestID),
            "origin": .string(record.origin), "metadata": record.metadata, "batch": .bool(record.batch ?? false),
        ])
    }

    static func allocation(_ details: AllocationDetails) -> JSONValue {
        .object([
            "id": .id(details.id), "status": .string(details.status), "scope": scope(details.scope), "priority": .string(details.priority),
            "reserved_cost_usd": .money(details.reservedCostUSD), "reserved_tokens": .integer(details.reservedTokens),
            "price_id": .id(details.priceID), "bypass": .bool(details.bypass), "created_at": .instant(details.createdAt),
            "expires_at": .instant(details.expiresAt), "finished_at": .instant(details.finishedAt), "usage_id": .id(details.usageID),
            "request_id": .text(details.requestID),
        ])
    }

    /// A long-context tier as stored (`PriceRepository.contextTiers`): kinds it leaves to the base are left out.
    static func contextTier(_ tier: ContextTier) -> JSONValue {
        var members: [String: JSONValue] = ["threshold_tokens": .number(String(tier.thresholdTokens))]
        for (name, price) in [("input", tier.input), ("output", tier.output), ("cache_read", tier.cacheRead), ("cache_write", tier.cacheWrite)] {
            if let price { members[name] = .string(price.plainText) }
        }
        return .object(members)
    }

    static func price(_ record: PriceRecord) -> JSONValue {
        .object([
            "id": .id(record.price.id), "provider": .string(record.price.provider), "model": .string(record.price.model),
            "input_per_token": .money(record.price.input), "output_per_token": .money(record.price.output),
            "cache_read_per_token": .money(record.price.cacheRead), "cache_write_per_token": .money(record.price.cacheWrite),
            "reasoning_per_token": .money(record.price.reasoning), "batch_input_per_token": .money(record.price.batchInput),
            "batch_output_per_token": .money(record.price.batchOutput), "context_tiers": .array(record.price.contextTiers.map(contextTier)),
            "times_of_day": .array(record.price.timesOfDay.map(\.jsonValue)), "status": .string(record.status), "source": .string(record.source),
            "set_by": .text(record.setBy), "effective_from": .instant(record.price.effectiveFrom), "effective_to": .instant(record.effectiveTo),
        ])
    }
}
