// Apollo's update_allocation on the engine (sql/migrations/0031_apollo_update_allocation.sql): a
// top-up of a context's allocation, an extension of its expiry, or both, in one transaction and
// under an optional Idempotency-Key. The allocation keeps its id.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

extension ApolloCompatRepository {
    public struct UpdateRequest: Sendable {
        public var contextID: String
        /// Tokens added to the allocation (0: none).
        public var additionalTokens: Int64
        /// Seconds added to the expiry (Apollo's `extend_expiration`).
        public var extendSeconds: Int64?
        /// A new expiry instead.
        public var expiresAt: Date?

        public init(contextID: String, additionalTokens: Int64, extendSeconds: Int64?, expiresAt: Date?) {
            self.contextID = contextID
            self.additionalTokens = additionalTokens
            self.extendSeconds = extendSeconds
            self.expiresAt = expiresAt
        }
    }

    public enum UpdateAnswer: Sendable {
        /// The context's allocation after the update; `limits`: the top-up's windows as it found them.
        case updated(ApolloAllocation, limits: [WindowSpec], replayed: Bool)
        /// The top-up was denied; the allocation (of `tier`) is as it was.
        case denied(deniedBy: WindowSpec, limits: [WindowSpec], tier: ApolloTier, replayed: Bool)
        case notFound
        /// Released or expired: allocate again instead.
        case inactive(status: String, replayed: Bool)
        /// The new expiry is not in the future, or more than 30 days ahead.
        case badExpiry(replayed: Bool)
        case idempotencyConflict
    }

    public func updateAllocation(_ request: UpdateRequest, idempotencyKey: String?, requestHash: String, engine: BudgetEngine,
                                 logger: Logger) async throws -> UpdateAnswer {
        for _ in 0..<BudgetEngine.staleRetries {
            guard let current = try await allocation(contextID: request.contextID, logger: logger) else { return .notFound }
            let now = engine.clock()
            let result: ApolloFunctionResult = try await engine.withFreshCatalog(logger: logger) { catalog in
                var topUp: AllocationRow?
                var windows: [WindowSpec] = []
                if request.additionalTokens > 0 {
                    let plan = try AllocationPlanner.plan(scope: current.scope, estimate: Self.estimate(tokens: request.additionalTokens),
                                                          catalog: catalog, at: now, naming: engine.naming)
                    topUp = AllocationRow(id: UUID.timeOrdered(at: now), scope: current.scope,
                                          priority: (ApolloPriority(current.priority) ?? .normal).priority, reservedCostUSD: plan.estimatedCost,
                                          reservedTokens: plan.estimatedTokens, priceID: plan.price?.id, expiresAt: current.expiresAt,
                                          requestID: request.contextID,
                                          metadata: .object(["apollo_context_id": .string(request.contextID), "apollo_top_up": .bool(true)]))
                    windows = plan.reservations.map { WindowSpec($0.applicable, request: $0.amount) }
                }
                let result = try await call("""
                    SELECT apollo_update_allocation_keyed(\(request.contextID), \(current.allocationID),
                        \(try topUp.map { try EngineJSON.encode($0) })::jsonb, \(try EngineJSON.encode(windows))::jsonb,
                        \(request.additionalTokens), \(request.extendSeconds), \(request.expiresAt), \(catalog.generation),
                        \(idempotencyKey), \(requestHash))::text
                    """, logger: logger)
                return result.outcome == "stale" ? nil : result
            }
            let replayed = result.replayed ?? false
            switch result.outcome {
            case "updated":
                guard let allocation = result.allocation else { throw StoreError(.corrupt, "updated context \(request.contextID) not found") }
                return .updated(allocation, limits: result.limits ?? [], replayed: replayed)
            case "denied":
                guard let deniedBy = result.deniedBy else { throw StoreError(.corrupt, "denied without limit") }
                return .denied(deniedBy: deniedBy, limits: result.limits ?? [], tier: current.tier, replayed: replayed)
            case "not_found": return .notFound
            case "inactive": return .inactive(status: result.status ?? "released", replayed: replayed)
            case "bad_expiry": return .badExpiry(replayed: replayed)
            case "idempotency_conflict": return .idempotencyConflict
            case "changed": continue   // re-allocated meanwhile: the update applies to the new allocation
            default: throw StoreError(.corrupt, "unexpected apollo_update_allocation outcome \(result.outcome)")
            }
        }
        throw StoreError(.staleCatalog, "the context kept being re-allocated while it was updated")
    }
}
