// Apollo allocations per context_id on the engine: allocate (replacing the context's previous
// allocation), record usage (any number of times; the reservation shrinks as tokens are used),
// release, read back, and the totals of a summary. The writes take an optional Idempotency-Key in
// their own transaction and answer with the context's allocation after the write (0029), so a
// retry with the key gets the first answer back.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

/// A context's allocation as Apollo counts it.
/// Read from `apollo_allocation_state` (0029), which the writes also answer with.
public struct ApolloAllocation: Sendable, Hashable, Decodable {
    public var contextID: String
    public var allocationID: UUID
    public var component: String?
    public var provider: String?
    public var model: String?
    public var taskType: String
    public var tier: ApolloTier
    public var priority: Int
    public var tokensAllocated: Int64
    public var tokensUsed: Int64
    public var bypass: Bool
    public var createdAt: Date
    public var expiresAt: Date
    public var releasedAt: Date?
    public var metadata: JSONValue
    /// The engine allocation's status: active, released or expired.
    public var status: String
    /// The keys of its per_session / per_task windows.
    public var sessionID: String?
    public var taskID: String?

    enum CodingKeys: String, CodingKey {
        case contextID = "context_id", allocationID = "allocation_id", component, provider, model, taskType = "task_type", tier, priority
        case tokensAllocated = "tokens_allocated", tokensUsed = "tokens_used", bypass, createdAt = "created_at", expiresAt = "expires_at"
        case releasedAt = "released_at", metadata, status, sessionID = "session_id", taskID = "task_id"
    }

    public var isActive: Bool { status == "active" && releasedAt == nil }
    /// What it is now: active, released or expired (a context released through Apollo counts as released).
    public var state: String { releasedAt != nil && status == "active" ? "released" : status }
    /// The engine scope its usage and top-ups count in (as allocate made it).
    public var scope: Scope {
        Scope(component: component, provider: provider, model: model, taskType: taskType, tier: tier.rawValue, sessionID: sessionID, taskID: taskID)
    }
    public var remainingTokens: Int64 { max(0, tokensAllocated - tokensUsed) }
    /// Tokens used beyond the allocation (recorded in full, never dropped).
    public var overuseTokens: Int64 { max(0, tokensUsed - tokensAllocated) }
}

extension ApolloCompatRepository {
    public struct AllocateRequest: Sendable {
        public var contextID: String
        public var component: String?
        public var provider: String?
        public var model: String?
        public var taskType: String
        public var tier: ApolloTier
        public var priority: ApolloPriority
        public var tokens: Int64
        public var expiresAt: Date
        public var sessionID: String?
        public var taskID: String?
        public var metadata: JSONValue

        public init(contextID: String, component: String?, provider: String?, model: String?, taskType: String, tier: ApolloTier,
                    priority: ApolloPriority, tokens: Int64, expiresAt: Date, sessionID: String?, taskID: String?, metadata: JSONValue) {
            self.contextID = contextID
            self.component = component
            self.provider = provider
            self.model = model
            self.taskType = taskType
            self.tier = tier
            self.priority = priority
            self.tokens = tokens
            self.expiresAt = expiresAt
            self.sessionID = sessionID
            self.taskID = taskID
            self.metadata = metadata
        }

        /// The engine scope: the tier is a scope attribute, and per_session / per_task windows are
        /// keyed by the caller's session / task id, else by the context id (Apollo's "session").
        var scope: Scope {
            Scope(component: component, provider: provider, model: model, taskType: taskType, tier: tier.rawValue,
                  sessionID: sessionID ?? contextID, taskID: taskID ?? contextID)
        }
    }

    /// `replayed`: the answer kept with the request's Idempotency-Key, given again.
    public enum AllocateOutcome: Sendable {
        case granted(ApolloAllocation, limits: [WindowSpec], replayed: Bool)
        case denied(deniedBy: WindowSpec, limits: [WindowSpec], replayed: Bool)
        /// The key was used before with another request.
        case idempotencyConflict
    }

    /// Reserves `tokens` against every matching limit (hard limits deny, priority 10 bypasses and
    /// is recorded), replacing the context's previous allocation in the same transaction.
    public func allocate(_ request: AllocateRequest, idempotencyKey: String?, requestHash: String, engine: BudgetEngine,
                         logger: Logger) async throws -> AllocateOutcome {
        _ = try await ensureBudget(seedDefaults: true, logger: logger)
        let now = engine.clock()
        let scope = request.scope
        let estimate = Self.estimate(tokens: request.tokens)
        let context: JSONValue = .object([
            "context_id": .string(request.contextID), "component": request.component.map(JSONValue.string) ?? .null,
            "provider": request.provider.map(JSONValue.string) ?? .null, "model": request.model.map(JSONValue.string) ?? .null,
            "task_type": .string(request.taskType), "tier": .string(request.tier.rawValue), "priority": .number(String(request.priority.value)),
            "tokens_allocated": .number(String(request.tokens)), "metadata": request.metadata,
        ])
        let result: ApolloFunctionResult = try await engine.withFreshCatalog(logger: logger) { catalog in
            let plan = try AllocationPlanner.plan(scope: scope, estimate: estimate, catalog: catalog, at: now, naming: engine.naming)
            let row = AllocationRow(id: UUID.timeOrdered(at: now), scope: scope, priority: request.priority.priority, reservedCostUSD: plan.estimatedCost,
                                    reservedTokens: plan.estimatedTokens, priceID: plan.price?.id, expiresAt: request.expiresAt,
                                    requestID: request.contextID, metadata: .object(["apollo_context_id": .string(request.contextID)]))
            let windows = plan.reservations.map { WindowSpec($0.applicable, request: $0.amount) }
            let result = try await call("""
                SELECT apollo_allocate_keyed(\(try EngineJSON.encode(context))::jsonb, \(try EngineJSON.encode(row))::jsonb,
                                             \(try EngineJSON.encode(windows))::jsonb, \(catalog.generation), \(idempotencyKey), \(requestHash))::text
                """, logger: logger)
            return result.outcome == "stale" ? nil : result
        }
        let replayed = result.replayed ?? false
        switch result.outcome {
        case "granted":
            guard let allocation = result.allocation else {
                throw StoreError(.corrupt, "granted allocation of context \(request.contextID) not found")
            }
            return .granted(allocation, limits: result.limits ?? [], replayed: replayed)
        case "denied":
            guard let deniedBy = result.deniedBy else { throw StoreError(.corrupt, "denied without limit") }
            return .denied(deniedBy: deniedBy, limits: result.limits ?? [], replayed: replayed)
        case "idempotency_conflict":
            return .idempotencyConflict
        default:
            throw StoreError(.corrupt, "unexpected apollo_allocate outcome \(result.outcome)")
        }
    }

    /// What `tokens` reserve. Apollo counts tokens without splitting input from output; for dollar
    /// limits that also match (another budget's provider limit, say) the estimate prices every
    /// token at the output price: the worst case, as a reservation should be.
    static func estimate(tokens: Int64) -> Estimate {
        Estimate(inputTokens: 0, maxOutputTokens: tokens)
    }

    public enum UsageKind: String, Sendable, CaseIterable {
        case input, output, total
    }

    public struct UsageOutcome: Sendable {
        public var record: LedgerRecord
        public var allocation: ApolloAllocation
        /// Tokens of this call beyond what remained of the allocation (all recorded).
        public var overuseTokens: Int64
        /// The answer kept with the request's Idempotency-Key, given again.
        public var replayed: Bool
    }

    public enum UsageAnswer: Sendable {
        case recorded(UsageOutcome)
        /// The context has no allocation.
        case notFound
        /// The key was used before with another request.
        case idempotencyConflict
    }

    /// Records usage against the context's allocation. Every token is recorded, whatever remains
    /// of the allocation and even after release or expiry.
    public func recordUsage(contextID: String, usage: TokenUsage, operationID: String?, metadata: JSONValue, idempotencyKey: String?,
                            requestHash: String, engine: BudgetEngine, logger: Logger) async throws -> UsageAnswer {
        for _ in 0..<BudgetEngine.staleRetries {
            guard let current = try await allocation(contextID: contextID, logger: logger) else { return .notFound }
            let scope = current.scope
            var recordMetadata: [String: JSONValue] = ["apollo_context_id": .string(contextID)]
            if let operationID { recordMetadata["apollo_operation_id"] = .string(operationID) }
            if case .object(let extra) = metadata, !extra.isEmpty { recordMetadata["apollo_metadata"] = .object(extra) }
            let input = BudgetEngine.UsageInput(occurredAt: nil, scope: scope, usage: usage, costUSD: nil, requestID: operationID ?? contextID,
                                                metadata: .object(recordMetadata), origin: "apollo_compat")
            let now = engine.clock()
            let result: ApolloFunctionResult = try await engine.withFreshCatalog(logger: logger) { catalog in
                let record = engine.ledgerRecord(for: input, allocationID: current.allocationID, catalog: catalog, now: now)
                let result = try await call("""
                    SELECT apollo_record_usage_keyed(\(contextID), \(current.allocationID), \(try EngineJSON.encode(record))::jsonb,
                                                     \(catalog.generation), \(idempotencyKey), \(requestHash))::text
                    """, logger: logger)
                return result.outcome == "stale" ? nil : result
            }
            switch result.outcome {
            case "recorded":
                guard let record = result.record, let after = result.allocation else {
                    throw StoreError(.corrupt, "usage recorded without record")
                }
                let before = result.tokensUsedBefore ?? 0
                let total = usage.total ?? Int64.max
                // Overuse of this call: the part of it beyond the allocation.
                let overuse = max(0, min(total, before + total - after.tokensAllocated))
                return .recorded(UsageOutcome(record: record, allocation: after, overuseTokens: overuse, replayed: result.replayed ?? false))
            case "not_found":
                return .notFound
            case "idempotency_conflict":
                return .idempotencyConflict
            case "changed":
                continue   // re-allocated meanwhile: price and count against the new allocation
            default:
                throw StoreError(.corrupt, "unexpected apollo_record_usage outcome \(result.outcome)")
            }
        }
        throw StoreError(.staleCatalog, "the context kept being re-allocated while usage was recorded")
    }

    public enum ReleaseAnswer: Sendable {
        /// The context's allocation after the release; `replayed`: the answer kept with the key.
        case released(ApolloAllocation, replayed: Bool)
        case notFound
        case idempotencyConflict
    }

    /// Releases the context's allocation (what it still reserves is freed).
    public func release(contextID: String, idempotencyKey: String?, requestHash: String, logger: Logger) async throws -> ReleaseAnswer {
        let result = try await call("SELECT apollo_release_keyed(\(contextID), \(idempotencyKey), \(requestHash))::text", logger: logger)
        switch result.outcome {
        case "not_found": return .notFound
        case "idempotency_conflict": return .idempotencyConflict
        default:
            guard let allocation = result.allocation else { throw StoreError(.corrupt, "released context \(contextID) not found") }
            return .released(allocation, replayed: result.replayed ?? false)
        }
    }

    public func allocation(contextID: String, logger: Logger) async throws -> ApolloAllocation? {
        let rows = try await client.collect("SELECT apollo_allocation_state(\(contextID))::text", logger: logger)
        for try await text in rows.decode(String?.self) {
            return try text.map { try EngineJSON.decoder.decode(ApolloAllocation.self, from: Data($0.utf8)) }
        }
        return nil
    }

    public struct AllocationTotals: Sendable, Hashable {
        public var activeAllocations: Int
        public var tokensAllocated: Int64
    }

    /// Active (unreleased, unexpired) allocations of a tier, optionally of one component / task type.
    public func activeTotals(tier: ApolloTier, component: String?, taskType: String?, logger: Logger) async throws -> AllocationTotals {
        let rows = try await client.collect("""
            SELECT count(*)::bigint, coalesce(sum(c.tokens_allocated), 0)::bigint
            FROM apollo_allocations c JOIN allocations a ON a.id = c.allocation_id
            WHERE c.tier = \(tier.rawValue) AND c.released_at IS NULL AND a.status = 'active' AND a.expires_at > now()
              AND (\(component)::text IS NULL OR c.component = \(component))
              AND (\(taskType)::text IS NULL OR c.task_type = \(taskType))
            """, logger: logger)
        for try await (count, tokens) in rows.decode((Int64, Int64).self) {
            return AllocationTotals(activeAllocations: Int(count), tokensAllocated: tokens)
        }
        return AllocationTotals(activeAllocations: 0, tokensAllocated: 0)
    }

    func call(_ query: PostgresQuery, logger: Logger) async throws -> ApolloFunctionResult {
        let rows = try await client.collect(query, logger: logger)
        for try await text in rows.decode(String.self) {
            return try EngineJSON.decoder.decode(ApolloFunctionResult.self, from: Data(text.utf8))
        }
        throw StoreError(.corrupt, "the apollo function returned no row")
    }
}

/// Decoded answer of apollo_allocate / apollo_record_usage / apollo_release.
struct ApolloFunctionResult: Decodable {
    var outcome: String
    var limits: [WindowSpec]?
    var deniedBy: WindowSpec?
    var record: LedgerRecord?
    var tokensUsedBefore: Int64?
    /// The context's allocation after the write (0029).
    var allocation: ApolloAllocation?
    var replayed: Bool?
    /// Why an update found the allocation inactive: released or expired (0031).
    var status: String?

    enum CodingKeys: String, CodingKey {
        case outcome, limits, record, allocation, replayed, status
        case deniedBy = "denied_by", tokensUsedBefore = "tokens_used_before"
    }
}
