// /api/v1/compat/apollo: Apollo's TokenBudgetManager operations in Apollo's shapes, on Budget's
// engine (one budget named `apollo`). Apollo's defects are not reproduced: hard limits deny
// (reserved tokens count), usage beyond an allocation is recorded in full, state is durable.
// Every write takes an Idempotency-Key: the same key with the same request gives the first answer
// again (with `Idempotent-Replayed: true`), with another request a 409.
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird

struct ApolloCompatController {
    let engine: BudgetEngine
    let repository: ApolloCompatRepository
    let idempotency: IdempotentResponses

    /// Apollo's validator gives an allocation created with `expiration_time=None` 24 hours; Budget
    /// uses that for every allocation without one (a reservation that never expires would hold
    /// its tokens against the limits forever).
    static let defaultLifetime: TimeInterval = 24 * 3600
    static let maxLifetime: TimeInterval = 30 * 24 * 3600

    /// Routes that change limits or tiers go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let apollo = routes.api.group("compat/apollo")
        let apolloAdmin = routes.administration.group("compat/apollo")
        apollo.post("allocate") { request, context in try await allocate(request, context) }
        apollo.get("allocations/:context_id") { _, context in
            let contextID = try Self.contextID(context)
            guard let allocation = try await repository.allocation(contextID: contextID, logger: context.logger) else {
                throw APIError.notFound("no allocation for context '\(contextID)'")
            }
            return try JSONResponse.make(.ok, ApolloWire.allocation(allocation))
        }
        apollo.post("allocations/:context_id/usage") { request, context in try await recordUsage(request, context) }
        apollo.post("allocations/:context_id/release") { request, context in
            // No body: a key given again is the same request.
            try await release(contextID: try Self.contextID(context), idempotencyKey: try request.idempotencyKey(), requestHash: "release", context)
        }
        apollo.post("allocations/:context_id/update") { request, context in try await update(request, context) }
        apollo.get("summary") { request, context in try await summary(request, context) }
        apollo.get("limits") { _, context in
            let policies = try await repository.policies(logger: context.logger)
            return try JSONResponse.make(.ok, JSONValue.array(policies.map(ApolloWire.policy)))
        }
        apolloAdmin.put("limits") { request, context in try await setLimit(request, context, policyID: nil) }
        apolloAdmin.put("limits/:policy_id") { request, context in
            try await setLimit(request, context, policyID: try Self.pathText(context, "policy_id"))
        }
        apollo.get("tier") { request, context in
            let resolver = try await repository.tierResolver(logger: context.logger)
            let resolution = resolver.resolve(model: request.query("model"), component: request.query("component"), provider: request.query("provider"))
            return try JSONResponse.make(.ok, JSONValue.object([
                "tier": .string(resolution.tier.rawValue), "resolvedBy": .string(resolution.source.rawValue), "matched": .text(resolution.matched),
            ]))
        }
        apollo.get("tiers") { _, context in try await tiers(context) }
        apolloAdmin.put("tiers/:kind/:name") { request, context in try await setTier(request, context) }
        apolloAdmin.delete("tiers/:kind/:name") { request, context in try await removeTier(request, context) }
    }

    // MARK: allocate

    func allocate(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let decoded = try await request.decodeBody(JSONValue.self, context: context)
        let body = try ApolloObject(decoded.value)
        let idempotencyKey = try request.idempotencyKey()
        let contextID = try body.requiredString("context_id")
        let component = try body.string("component")
        let provider = try body.string("provider")
        let model = try body.string("model")
        let taskType = try body.string("task_type") ?? "default"
        let priority: ApolloPriority
        if let raw = try body.integer("priority") {
            guard let value = ApolloPriority(Int(clamping: raw)) else {
                throw APIError.badRequest("priority must be from 1 (low) to 10 (critical)", field: body.raw("priority")?.1)
            }
            priority = value
        } else {
            priority = .normal
        }
        let tokens: Int64
        if let requested = try body.integer("token_count") {
            guard requested >= 1 else { throw APIError.badRequest("token_count must be at least 1", field: body.raw("token_count")?.1) }
            tokens = requested
        } else {
            tokens = ApolloDefaults.allocationSize(taskType: taskType, priority: priority)
        }
        let now = Date()
        let expiresAt: Date
        if let explicit = try body.instant("expiration_time") ?? body.instant("expiration") {
            guard explicit > now, explicit.timeIntervalSince(now) <= Self.maxLifetime else {
                throw APIError.badRequest("expiration_time must be in the future and at most 30 days ahead", field: "expiration_time")
            }
            expiresAt = explicit
        } else if let ttl = try body.integer("ttl_seconds") {
            guard ttl >= 1, TimeInterval(ttl) <= Self.maxLifetime else {
                throw APIError.badRequest("ttl_seconds must be from 1 to 2592000 (30 days)", field: body.raw("ttl_seconds")?.1)
            }
            expiresAt = now.addingTimeInterval(TimeInterval(ttl))
        } else {
            expiresAt = now.addingTimeInterval(Self.defaultLifetime)
        }
        let metadata = try body.object("metadata")
        let resolution: ApolloTierResolver.Resolution
        if let explicit = try body.string("tier") {
            guard let tier = ApolloTier(rawValue: explicit) else {
                throw APIError.badRequest("unknown tier '\(explicit)' (use one of \(ApolloTier.allCases.map(\.rawValue).joined(separator: ", ")))", field: "tier")
            }
            resolution = .init(tier: tier, source: .caller, matched: nil)
        } else {
            resolution = try await repository.tierResolver(logger: context.logger).resolve(model: model, component: component, provider: provider)
        }
        let allocateRequest = ApolloCompatRepository.AllocateRequest(
            contextID: contextID, component: component, provider: provider, model: model, taskType: taskType, tier: resolution.tier,
            priority: priority, tokens: tokens, expiresAt: expiresAt, sessionID: try body.string("session_id"), taskID: try body.string("task_id"),
            metadata: metadata)
        let outcome = try await planned {
            try await repository.allocate(allocateRequest, idempotencyKey: idempotencyKey, requestHash: decoded.hash, engine: engine,
                                          logger: context.logger)
        }
        switch outcome {
        case .granted(let allocation, _, let replayed):
            return try JSONResponse.make(.created, ApolloWire.allocation(allocation), headers: replayHeader(replayed))
        case .idempotencyConflict:
            throw Self.keyConflict(idempotencyKey)
        case .denied(let deniedBy, _, let replayed):
            throw try await denial(deniedBy, replayed: replayed, contextID: contextID, tier: resolution.tier, context)
        }
    }

    /// The 429 of a denied allocate or top-up, in Apollo's terms when the limit is an Apollo policy.
    func denial(_ deniedBy: WindowSpec, replayed: Bool, contextID: String, tier: ApolloTier, _ context: BudgetRequestContext) async throws -> APIError {
        var error = AllocationsController.denial(deniedBy, replayed: replayed)
        if let policy = try await repository.policies(logger: context.logger).first(where: { $0.limitID == deniedBy.limitID }) {
            error.details["policyId"] = .string(policy.policy.policyID)
            error.details["policyType"] = .string(policy.policy.type.rawValue)
            error.message = "Apollo \(policy.policy.type.rawValue) policy \(policy.policy.policyID) (\(policy.policy.tier.rawValue), \(policy.policy.period.rawValue)) would be exceeded"
        }
        error.details["contextId"] = .string(contextID)
        error.details["tier"] = .string(tier.rawValue)
        return error
    }

    // MARK: update (top-up, extension)

    /// Apollo's `update_allocation`: `additionalTokens` (a top-up, decided like an allocate),
    /// `extendExpiration` (seconds) or `expirationTime`, and `isActive: false` (a release, alone).
    func update(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let contextID = try Self.contextID(context)
        let decoded = try await request.decodeBody(JSONValue.self, context: context)
        let body = try ApolloObject(decoded.value)
        let idempotencyKey = try request.idempotencyKey()
        let additional = try body.integer("additional_tokens")
        if let additional, additional < 1 {
            throw APIError.badRequest("additional_tokens must be at least 1", field: body.raw("additional_tokens")?.1)
        }
        let extend = try body.integer("extend_expiration")
        if let extend, extend < 1 || TimeInterval(extend) > Self.maxLifetime {
            throw APIError.badRequest("extend_expiration must be from 1 to 2592000 seconds", field: body.raw("extend_expiration")?.1)
        }
        let expiresAt = try body.instant("expiration_time")
        guard extend == nil || expiresAt == nil else {
            throw APIError.badRequest("give extend_expiration or expiration_time, not both", field: "expiration_time")
        }
        var isActive: Bool?
        if let (value, name) = body.raw("is_active") {
            guard case .bool(let flag) = value else { throw APIError.badRequest("\(name) must be true or false", field: name) }
            isActive = flag
        }
        if isActive == false {
            guard additional == nil, extend == nil, expiresAt == nil else {
                throw APIError.badRequest("isActive false releases the allocation; give it alone", field: "is_active")
            }
            return try await release(contextID: contextID, idempotencyKey: idempotencyKey, requestHash: decoded.hash, context)
        }
        guard additional != nil || extend != nil || expiresAt != nil else {
            guard isActive == true else { throw APIError.badRequest("give additional_tokens, extend_expiration or expiration_time") }
            // isActive true alone changes nothing on an active allocation; an inactive one cannot be brought back.
            guard let allocation = try await repository.allocation(contextID: contextID, logger: context.logger) else {
                throw APIError.notFound("no allocation for context '\(contextID)'")
            }
            guard allocation.isActive else { throw Self.inactive(contextID, status: allocation.state, replayed: false) }
            return try JSONResponse.make(.ok, ApolloWire.allocation(allocation))
        }
        let update = ApolloCompatRepository.UpdateRequest(contextID: contextID, additionalTokens: additional ?? 0, extendSeconds: extend,
                                                          expiresAt: expiresAt)
        switch try await repository.updateAllocation(update, idempotencyKey: idempotencyKey, requestHash: decoded.hash, engine: engine,
                                                     logger: context.logger) {
        case .updated(let allocation, _, let replayed):
            return try JSONResponse.make(.ok, ApolloWire.allocation(allocation), headers: replayHeader(replayed))
        case .denied(let deniedBy, _, let tier, let replayed):
            throw try await denial(deniedBy, replayed: replayed, contextID: contextID, tier: tier, context)
        case .notFound:
            throw APIError.notFound("no allocation for context '\(contextID)'")
        case .inactive(let status, let replayed):
            throw Self.inactive(contextID, status: status, replayed: replayed)
        case .badExpiry(let replayed):
            var error = APIError.badRequest("the new expiration must be in the future and at most 30 days ahead",
                                            field: expiresAt == nil ? "extend_expiration" : "expiration_time")
            error.headers = replayHeader(replayed)
            throw error
        case .idempotencyConflict:
            throw Self.keyConflict(idempotencyKey)
        }
    }

    func release(contextID: String, idempotencyKey: String?, requestHash: String, _ context: BudgetRequestContext) async throws -> Response {
        switch try await repository.release(contextID: contextID, idempotencyKey: idempotencyKey, requestHash: requestHash,
                                            logger: context.logger) {
        case .released(let allocation, let replayed):
            return try JSONResponse.make(.ok, ApolloWire.allocation(allocation), headers: replayHeader(replayed))
        case .notFound:
            throw APIError.notFound("no allocation for context '\(contextID)'")
        case .idempotencyConflict:
            throw Self.keyConflict(idempotencyKey)
        }
    }

    // MARK: record usage

    func recordUsage(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let contextID = try Self.contextID(context)
        let decoded = try await request.decodeBody(JSONValue.self, context: context)
        let body = try ApolloObject(decoded.value)
        let idempotencyKey = try request.idempotencyKey()
        guard let tokens = try body.integer("tokens") else { throw APIError.badRequest("tokens is required", field: "tokens") }
        guard tokens >= 1 else { throw APIError.badRequest("tokens must be at least 1", field: "tokens") }
        let kindText = try body.string("usage_type") ?? "total"
        guard let kind = ApolloCompatRepository.UsageKind(rawValue: kindText) else {
            throw APIError.badRequest("usage_type must be input, output or total", field: body.raw("usage_type")?.1)
        }
        let usage: TokenUsage
        switch kind {
        case .input: usage = TokenUsage(input: tokens)
        case .output: usage = TokenUsage(output: tokens)
        case .total:
            let input = try body.integer("input_tokens")
            let output = try body.integer("output_tokens")
            if input != nil || output != nil {
                let (i, o) = (input ?? 0, output ?? 0)
                guard i >= 0, o >= 0, i.addingReportingOverflow(o) == (tokens, false) else {
                    throw APIError.badRequest("input_tokens + output_tokens must equal tokens", field: "input_tokens")
                }
                usage = TokenUsage(input: i, output: o)
            } else {
                // No split: counted as output tokens, so a dollar limit is charged the worst case.
                usage = TokenUsage(output: tokens)
            }
        }
        let operationID = try body.string("operation_id")
        let metadata = try body.object("metadata")
        let outcome: ApolloCompatRepository.UsageOutcome
        switch try await repository.recordUsage(contextID: contextID, usage: usage, operationID: operationID, metadata: metadata,
                                                idempotencyKey: idempotencyKey, requestHash: decoded.hash, engine: engine, logger: context.logger) {
        case .recorded(let recorded): outcome = recorded
        case .notFound: throw APIError.notFound("no allocation for context '\(contextID)'")
        case .idempotencyConflict: throw Self.keyConflict(idempotencyKey)
        }
        return try JSONResponse.make(.ok, JSONValue.object([
            "tokensRecorded": .integer(tokens), "overuseTokens": .integer(outcome.overuseTokens),
            "record": ApolloWire.usageRecord(outcome.record, allocation: outcome.allocation, usageType: kind.rawValue,
                                             operationID: operationID, metadata: metadata),
            "allocation": ApolloWire.allocation(outcome.allocation),
        ]), headers: replayHeader(outcome.replayed))
    }

    // MARK: summary

    func summary(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let tier: ApolloTier? = try request.query("tier").map { try parseEnum($0, ApolloTier.self, field: "tier") }
        let period = try parseEnum(request.query("period"), ApolloPeriod.self, field: "period", default: .daily)
        let component = request.query("component")
        let taskType = request.query("task_type") ?? request.query("taskType")
        let contextID = request.query("context_id") ?? request.query("contextId")
        let budgetID = try await repository.ensureBudget(seedDefaults: true, logger: context.logger)
        let policies = try await repository.policies(logger: context.logger)
        let now = Date()
        var summaries: [JSONValue] = []
        for current in tier.map({ [$0] }) ?? ApolloTier.allCases {
            // Apollo's choice: among the applicable policies of the period, a specific one
            // (component or task type) overrides a general one.
            var chosen: ApolloCompatRepository.StoredPolicy?
            for stored in policies {
                let p = stored.policy
                guard p.tier == current, p.period == period, stored.effectivePolicy(at: now) != nil else { continue }
                if let c = p.component, let asked = component, c != asked { continue }
                if let t = p.taskType, let asked = taskType, t != asked { continue }
                if chosen == nil || p.component != nil || p.taskType != nil { chosen = stored }
            }
            guard let chosen else { continue }
            let query = Scope(component: chosen.policy.component ?? component, taskType: chosen.policy.taskType ?? taskType,
                              tier: current.rawValue, sessionID: contextID, taskID: contextID)
            var states = try await engine.status(query: query, budgetID: budgetID, logger: context.logger)
            if !states.contains(where: { $0.limitID == chosen.limitID }), contextID != nil || period.period.isTimePeriod {
                // A policy set through another instance: this one's cached catalog is older.
                engine.catalog.invalidate()
                states = try await engine.status(query: query, budgetID: budgetID, logger: context.logger)
            }
            guard let state = states.first(where: { $0.limitID == chosen.limitID }) else { continue }   // per_session without context_id
            let spent = Decimal(exactly: state.spent ?? "0") ?? 0
            let reserved = Decimal(exactly: state.reserved ?? "0") ?? 0
            let used = Int64(wholeTokens: spent) ?? 0
            let totals = try await repository.activeTotals(tier: current, component: component, taskType: taskType, logger: context.logger)
            let limit = chosen.policy.limit
            summaries.append(.object([
                "period": .string(period.rawValue), "tier": .string(current.rawValue), "component": .text(component), "taskType": .text(taskType),
                "totalAllocated": .integer(totals.tokensAllocated), "totalUsed": .integer(used), "limit": .integer(limit),
                "usagePercentage": limit > 0 ? ApolloWire.ratio(used, limit) : .number("0"),
                "activeAllocations": .number(String(totals.activeAllocations)),
                "startTime": .instant(state.windowStart), "endTime": .instant(state.windowEnd),
                "remaining": .integer(max(0, limit - used)), "isExceeded": .bool(used > limit),
                "reserved": .integer(Int64(wholeTokens: reserved) ?? 0), "policyId": .string(chosen.policy.policyID),
                "policyType": .string(chosen.policy.type.rawValue),
            ]))
        }
        return try JSONResponse.make(.ok, JSONValue.array(summaries))
    }

    // MARK: set limit

    /// A PUT without a policy id makes a new policy each time, so a retry needs the key.
    func setLimit(_ request: Request, _ context: BudgetRequestContext, policyID: String?) async throws -> Response {
        let decoded = try await request.decodeBody(JSONValue.self, context: context)
        guard case .object(var members) = decoded.value else { throw APIError.badRequest("the body must be a JSON object") }
        if let policyID { members["policy_id"] = .string(policyID); members["policyId"] = nil }
        let policy: ApolloPolicy
        do {
            policy = try ApolloPolicy.parse(members, newID: { UUID.secureRandom().lowercasedText })
        } catch {
            throw APIError.badRequest("\(error.field) \(error.message)", field: error.field)
        }
        return try await idempotency.respond(operation: "apollo.limit:\(policyID ?? "")", request: request, hash: decoded.hash,
                                             logger: context.logger) {
            let (stored, result) = try await repository.setPolicy(policy, logger: context.logger)
            engine.catalog.invalidate()
            return (result == .created ? .created : .ok, ApolloWire.policy(stored))
        }
    }

    // MARK: tier tables

    /// Apollo's three tables as they stand (its defaults with the entries set here), and the
    /// entries set.
    func tiers(_ context: BudgetRequestContext) async throws -> Response {
        let overrides = try await repository.tierOverrides(logger: context.logger)
        let resolver = ApolloTierResolver(overrides: overrides)
        func table(_ entries: [String: ApolloTier]) -> JSONValue { .object(entries.mapValues { .string($0.rawValue) }) }
        return try JSONResponse.make(.ok, JSONValue.object([
            "modelTiers": table(resolver.modelTiers), "componentTiers": table(resolver.componentTiers),
            "providerTiers": table(resolver.providerTiers), "overrides": .array(overrides.map { .object(ApolloWire.tierEntry($0)) }),
        ]))
    }

    /// `set_model_tier`, `set_component_tier`, `set_provider_tier`: `PUT tiers/{kind}/{name}` with `{"tier": …}`.
    func setTier(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let (kind, name) = try Self.tierEntry(context)
        let decoded = try await request.decodeBody(JSONValue.self, context: context)
        let body = try ApolloObject(decoded.value)
        guard let text = try body.string("tier") else { throw APIError.badRequest("tier is required", field: "tier") }
        guard let tier = ApolloTier(rawValue: text) else {
            throw APIError.badRequest("unknown tier '\(text)' (use one of \(ApolloTier.allCases.map(\.rawValue).joined(separator: ", ")))", field: "tier")
        }
        return try await idempotency.respond(operation: "apollo.tier:\(kind.rawValue):\(name)", request: request, hash: decoded.hash,
                                             logger: context.logger) {
            let (entry, previous) = try await repository.setTier(kind: kind, name: name, tier: tier, logger: context.logger)
            var view = ApolloWire.tierEntry(entry)
            view["previousTier"] = .text(previous?.rawValue)
            view["defaultTier"] = .text(ApolloTierResolver.defaultTier(kind: kind, name: name)?.rawValue)
            return (.ok, .object(view))
        }
    }

    /// Removes an entry set here: the name falls back to Apollo's default entry, if it has one.
    func removeTier(_ request: Request, _ context: BudgetRequestContext) async throws -> Response {
        let (kind, name) = try Self.tierEntry(context)
        return try await idempotency.respond(operation: "apollo.tier.delete:\(kind.rawValue):\(name)", request: request, hash: "",
                                             logger: context.logger) {
            guard let removed = try await repository.removeTier(kind: kind, name: name, logger: context.logger) else {
                throw APIError.notFound("no \(kind.rawValue) tier is set for '\(name)'")
            }
            return (.ok, JSONValue.object([
                "kind": .string(kind.rawValue), "name": .string(name), "removedTier": .string(removed.rawValue),
                "tier": .text(ApolloTierResolver.defaultTier(kind: kind, name: name)?.rawValue),
            ]))
        }
    }

    /// The table and the name a tier path names, the name keyed as the table looks it up.
    static func tierEntry(_ context: BudgetRequestContext) throws -> (ApolloTierOverride.Kind, String) {
        let kindText = try pathText(context, "kind")
        guard let kind = ApolloTierOverride.Kind(rawValue: kindText) else {
            throw APIError.badRequest("unknown tier table '\(kindText)' (use model, component or provider)", field: "kind")
        }
        guard let name = ApolloTierOverride.key(try pathText(context, "name"), kind: kind) else {
            throw APIError.badRequest("the name must have 1 to 500 characters besides spaces", field: "name")
        }
        return (kind, name)
    }

    /// A released or expired allocation cannot be updated (nor made active again).
    static func inactive(_ contextID: String, status: String, replayed: Bool) -> APIError {
        var error = APIError.conflict("the allocation of context '\(contextID)' is \(status); allocate again instead")
        error.headers = replayHeader(replayed)
        return error
    }

    static func keyConflict(_ key: String?) -> APIError {
        APIError.conflict("Idempotency-Key '\(key ?? "")' was already used with a different request", code: "idempotency_conflict")
    }

    // MARK: path values

    static func contextID(_ context: BudgetRequestContext) throws -> String {
        try pathText(context, "context_id")
    }

    static func pathText(_ context: BudgetRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let text = raw.removingPercentEncoding, !text.isEmpty, text.count <= 500 else {
            throw APIError.badRequest("\(name) is not valid", field: name)
        }
        return text
    }
}

extension ApolloCompatRepository.StoredPolicy {
    /// The Budget policy it has now, or nil when Apollo would skip it (disabled or ended).
    func effectivePolicy(at instant: Date) -> Policy? {
        guard policy.enabled else { return nil }
        if let end = policy.endDate, end <= instant { return nil }
        return budgetPolicy
    }
}
