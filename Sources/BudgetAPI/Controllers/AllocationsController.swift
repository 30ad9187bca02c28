// /api/v1/allocations (allocate, commit, release, inspect) and /api/v1/check.
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

struct AllocationsController {
    let engine: BudgetEngine

    func addRoutes(to group: RouterGroup<BudgetRequestContext>) {
        group.post("allocations") { request, context in
            try await allocate(try await request.decodeBody(AllocateBody.self, context: context), headers: request.headers, logger: context.logger)
        }
        group.post("check") { request, context in
            try await check(try await request.decodeBody(AllocateBody.self, context: context), logger: context.logger)
        }
        group.post("allocations/:id/commit") { request, context in
            let id = try context.parameters.uuid("id")
            return try await commit(allocationID: id, try await request.decodeBody(CommitBody.self, context: context), headers: request.headers,
                                    logger: context.logger)
        }
        group.post("allocations/:id/release") { _, context in
            let id = try context.parameters.uuid("id")
            switch try await engine.release(allocationID: id, logger: context.logger) {
            case .released(let status):
                return try JSONResponse.make(.ok, JSONValue.object(["id": .id(id), "status": .string(status)]))
            case .notFound:
                throw APIError.notFound("no allocation \(id)")
            case .conflict(let message):
                throw APIError.conflict(message, code: "allocation_conflict")
            }
        }
        group.get("allocations/:id") { _, context in
            let id = try context.parameters.uuid("id")
            guard let details = try await engine.store.allocation(id, logger: context.logger) else { throw APIError.notFound("no allocation \(id)") }
            return try JSONResponse.make(.ok, Views.allocation(details))
        }
    }

    /// POST /api/v1/allocations. Also answered outside the router, on the connection's event loop (HotPathHandler).
    func allocate(_ body: RequestBody<AllocateBody>, headers: HTTPFields, logger: Logger) async throws -> Response {
        let allocation = try body.value.request()
        let outcome = try await planned {
            try await engine.allocate(allocation, idempotencyKey: try headers.idempotencyKey(), requestHash: body.hash, logger: logger)
        }
        switch outcome {
        case .granted(let row, let limits, let replayed):
            return try JSONResponse.make(.created, Self.granted(row, limits), headers: replayHeader(replayed))
        case .denied(_, let deniedBy, _, let replayed):
            throw Self.denial(deniedBy, replayed: replayed)
        case .idempotencyConflict:
            throw APIError.conflict("Idempotency-Key was already used with a different request", code: "idempotency_conflict")
        case .stale:
            throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
        }
    }

    /// POST /api/v1/check. Also answered outside the router (HotPathHandler).
    func check(_ body: RequestBody<AllocateBody>, logger: Logger) async throws -> Response {
        let allocation = try body.value.request()
        let result = try await planned {
            try await engine.check(scope: allocation.scope, estimate: allocation.estimate, priority: allocation.priority, logger: logger)
        }
        var answer: [String: JSONValue] = [
            "allowed": .bool(result.decision.allowed),
            "warnings": .array(result.decision.warnings.map(JSONValue.string)),
            "estimated_cost_usd": .money(result.plan.estimatedCost),
            "estimated_tokens": .integer(result.plan.estimatedTokens),
            "price_id": .id(result.plan.price?.id),
            "limits": .array(result.states.map(Views.limitState)),
            "denied_by": .null, "reason": .null,
        ]
        if let denied = result.decision.deniedBy,
           let spec = result.states.first(where: { $0.limitID == denied.applicable.limit.id && $0.windowKey == denied.applicable.window.key }) {
            answer["denied_by"] = Views.limitState(spec)
            answer["reason"] = .string("enforce limit \(spec.limitID) (\(spec.period)) would be exceeded")
        }
        return try JSONResponse.make(.ok, JSONValue.object(answer))
    }

    /// POST /api/v1/allocations/{id}/commit. Also answered outside the router (HotPathHandler).
    func commit(allocationID id: UUID, _ body: RequestBody<CommitBody>, headers: HTTPFields, logger: Logger) async throws -> Response {
        let input = try body.value.input()
        let outcome = try await engine.commit(allocationID: id, input, idempotencyKey: try headers.idempotencyKey(),
                                              requestHash: body.hash, logger: logger)
        switch outcome {
        case .committed(let record, let expired, let replayed):
            return try JSONResponse.make(.ok, JSONValue.object([
                "usage_id": .id(record.id), "allocation_id": .id(id), "cost_usd": .text(record.costUSD.flatMap { Decimal(exactly: $0)?.plainText }),
                "pricing_status": .string(record.pricingStatus.rawValue), "price_id": .id(record.priceID),
                "reservation_expired": .bool(expired),
            ]), headers: replayHeader(replayed))
        case .notFound:
            throw APIError.notFound("no allocation \(id)")
        case .conflict(let message):
            throw APIError.conflict(message, code: "allocation_conflict")
        case .idempotencyConflict:
            throw APIError.conflict("Idempotency-Key was already used with a different request", code: "idempotency_conflict")
        case .stale:
            throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
        }
    }

    static func granted(_ row: AllocationRow, _ limits: [WindowSpec]) -> JSONValue {
        let states = limits.map(Views.limitState)
        var warnings: [JSONValue] = []
        for (spec, state) in zip(limits, states) {
            guard case .object(let object) = state, case .string(let health)? = object["state"], health != "ok", spec.policy != "ignore" else { continue }
            warnings.append(.string("\(spec.policy) limit \(spec.limitID.lowercasedText) (\(spec.period), budget \(spec.budgetName)) is at \(health): \((Decimal(exactly: spec.spent ?? "0") ?? 0) + (Decimal(exactly: spec.reserved ?? "0") ?? 0)) of \(spec.amount) \(spec.metric)"))
        }
        if row.bypass == true { warnings.append(.string("critical priority bypassed an enforce limit; the bypass is recorded")) }
        return .object([
            "id": .id(row.id), "status": .string("granted"), "reserved_cost_usd": .text(row.reservedCostUSD), "reserved_tokens": .integer(row.reservedTokens),
            "expires_at": .instant(row.expiresAt), "price_id": .id(row.priceID), "bypass": .bool(row.bypass ?? false),
            "warnings": .array(warnings), "limits": .array(states),
        ])
    }

    /// 429 naming the limit, its window and what remains; Retry-After is when the window ends.
    static func denial(_ spec: WindowSpec, replayed: Bool) -> APIError {
        var headers: HTTPFields = [:]
        if let end = spec.windowEnd { headers[.retryAfter] = String(max(1, Int(end.timeIntervalSinceNow.rounded(.up)))) }
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return APIError(.tooManyRequests, code: "budget_exceeded",
                        message: "enforce limit \(spec.limitID.lowercasedText) (\(spec.period) \(spec.metric), budget \(spec.budgetName)) would be exceeded",
                        headers: headers, details: ["limit": Views.limitState(spec)])
    }
}

func replayHeader(_ replayed: Bool) -> HTTPFields {
    replayed ? [HTTPField.Name("Idempotent-Replayed")!: "true"] : [:]
}

/// Maps planning refusals (unknown price under an enforce limit) to 422.
func planned<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PlanningError {
        switch error {
        case .priceUnknown(let provider, let model, let limitID):
            throw APIError.unprocessable(
                "no price is known for \(provider ?? "(no provider)")/\(model ?? "(no model)") and enforce limit \(limitID.lowercasedText) counts dollars; state estimate.cost_usd or set a price",
                code: "price_unknown", field: "estimate.cost_usd")
        }
    }
}
