// The engine's operations as callers see them: plan with the cached catalog (BudgetCore), then
// one atomic SQL call; a stale catalog is reloaded and the call retried.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct BudgetEngine: Sendable {
    public let catalog: CatalogCache
    let repository: EngineRepository
    let clock: @Sendable () -> Date
    /// How callers' provider and model names find their price (the canonical names in the server).
    public let naming: PriceNaming
    let recentAllocations = AllocationScopeCache()

    public init(client: PostgresClient, logger: Logger, naming: PriceNaming = .exact, batchExecutor: (any TaskExecutor)? = nil,
                clock: @escaping @Sendable () -> Date = Date.init) {
        self.catalog = CatalogCache(repository: CatalogRepository(client: client), logger: logger)
        self.repository = EngineRepository(client: client, batchExecutor: batchExecutor)
        self.naming = naming
        self.clock = clock
    }

    public var store: EngineRepository { repository }

    /// How allocate and commit calls were grouped into transactions since start-up.
    public var groupCommitStatistics: GroupCommitStatistics { repository.committer.statistics }

    public struct AllocationRequest: Sendable {
        public var scope: Scope
        public var estimate: Estimate
        public var ttlSeconds: Int
        public var priority: Priority
        public var requestID: String?
        public var metadata: JSONValue

        public init(scope: Scope, estimate: Estimate, ttlSeconds: Int, priority: Priority, requestID: String?, metadata: JSONValue) {
            self.scope = scope
            self.estimate = estimate
            self.ttlSeconds = ttlSeconds
            self.priority = priority
            self.requestID = requestID
            self.metadata = metadata
        }
    }

    public struct UsageInput: Sendable {
        public var occurredAt: Date?
        public var scope: Scope
        public var usage: TokenUsage
        public var costUSD: Decimal?
        public var requestID: String?
        public var metadata: JSONValue
        public var origin: String
        /// Made through the provider's batch API: its batch prices apply.
        public var batch: Bool

        public init(occurredAt: Date?, scope: Scope, usage: TokenUsage, costUSD: Decimal?, requestID: String?, metadata: JSONValue,
                    origin: String = "api", batch: Bool = false) {
            self.occurredAt = occurredAt
            self.scope = scope
            self.usage = usage
            self.costUSD = costUSD
            self.requestID = requestID
            self.metadata = metadata
            self.origin = origin
            self.batch = batch
        }
    }

    /// Catalog-dependent writes retry this often after a stale answer before giving up.
    static let staleRetries = 5

    /// Runs `body` with the cached catalog; a nil answer (the database said stale) reloads and retries.
    func withFreshCatalog<T>(logger: Logger, _ body: (LimitCatalog) async throws -> T?) async throws -> T {
        var catalog = try await self.catalog.current()
        for _ in 0..<Self.staleRetries {
            if let result = try await body(catalog) { return result }
            catalog = try await self.catalog.reload(ifOlderThan: catalog.generation + 1)
        }
        throw StoreError(.staleCatalog, "the catalog kept changing while the request was retried")
    }

    // MARK: allocate / check

    public func allocate(_ request: AllocationRequest, idempotencyKey: String?, requestHash: String, logger: Logger) async throws -> AllocateOutcome {
        let now = clock()
        return try await withFreshCatalog(logger: logger) { catalog in
            let plan = try AllocationPlanner.plan(scope: request.scope, estimate: request.estimate, catalog: catalog, at: now, naming: naming)
            let row = AllocationRow(
                id: UUID.timeOrdered(at: now), scope: request.scope, priority: request.priority, reservedCostUSD: plan.estimatedCost,
                reservedTokens: plan.estimatedTokens, priceID: plan.price?.id,
                expiresAt: now.addingTimeInterval(TimeInterval(request.ttlSeconds)), requestID: request.requestID, metadata: request.metadata
            )
            let windows = plan.reservations.map { WindowSpec($0.applicable, request: $0.amount) }
            let outcome = try await repository.allocate(row, windows: windows, generation: catalog.generation,
                                                         idempotencyKey: idempotencyKey, requestHash: requestHash, logger: logger)
            switch outcome {
            case .stale:
                return nil
            case .granted(let granted, _, _):
                recentAllocations.remember(granted.id, .init(scope: granted.scope, requestID: granted.requestID))
            default:
                break
            }
            return outcome
        }
    }

    public struct CheckResult: Sendable {
        public var plan: AllocationPlan
        public var states: [WindowSpec]
        public var decision: Decision
    }

    /// The allocate decision without reserving anything.
    public func check(scope: Scope, estimate: Estimate, priority: Priority, logger: Logger) async throws -> CheckResult {
        let now = clock()
        let catalog = try await self.catalog.current()
        let plan = try AllocationPlanner.plan(scope: scope, estimate: estimate, catalog: catalog, at: now, naming: naming)
        let specs = plan.reservations.map { WindowSpec($0.applicable, request: $0.amount) }
        let states = try await repository.states(of: specs, logger: logger)
        var evaluated: [(state: LimitState, request: Decimal)] = []
        for (reservation, state) in zip(plan.reservations, states) {
            evaluated.append((LimitState(applicable: reservation.applicable, spent: Decimal(exactly: state.spent ?? "0") ?? 0,
                                         reserved: Decimal(exactly: state.reserved ?? "0") ?? 0), reservation.amount))
        }
        var decision = Decision.evaluate(evaluated, priority: priority)
        decision.warnings = plan.warnings + decision.warnings
        return CheckResult(plan: plan, states: states, decision: decision)
    }

    // MARK: commit / release

    public struct CommitInput: Sendable {
        public var usage: TokenUsage
        public var provider: String?
        public var model: String?
        public var costUSD: Decimal?
        public var occurredAt: Date?
        public var requestID: String?
        public var metadata: JSONValue
        public var batch: Bool

        public init(usage: TokenUsage, provider: String?, model: String?, costUSD: Decimal?, occurredAt: Date?, requestID: String?,
                    metadata: JSONValue, batch: Bool = false) {
            self.usage = usage
            self.provider = provider
            self.model = model
            self.costUSD = costUSD
            self.occurredAt = occurredAt
            self.requestID = requestID
            self.metadata = metadata
            self.batch = batch
        }
    }

    public func commit(allocationID: UUID, _ input: CommitInput, idempotencyKey: String?, requestHash: String, logger: Logger) async throws -> CommitOutcome {
        // The SQL function checks the allocation's state; here only its scope is needed.
        let known: AllocationScopeCache.Entry
        if let cached = recentAllocations.take(allocationID) {
            known = cached
        } else if let stored = try await repository.allocation(allocationID, logger: logger) {
            known = .init(scope: stored.scope, requestID: stored.requestID)
        } else {
            return .notFound
        }
        var scope = known.scope
        if let provider = input.provider { scope.provider = provider }
        if let model = input.model { scope.model = model }
        let usage = UsageInput(occurredAt: input.occurredAt, scope: scope, usage: input.usage, costUSD: input.costUSD,
                               requestID: input.requestID ?? known.requestID, metadata: input.metadata, batch: input.batch)
        let now = clock()
        return try await withFreshCatalog(logger: logger) { catalog in
            let record = ledgerRecord(for: usage, allocationID: allocationID, catalog: catalog, now: now)
            let outcome = try await repository.commit(allocationID: allocationID, record: record, generation: catalog.generation,
                                                       requestHash: requestHash, idempotencyKey: idempotencyKey, logger: logger)
            if case .stale = outcome { return nil }
            return outcome
        }
    }

    public func release(allocationID: UUID, logger: Logger) async throws -> ReleaseOutcome {
        try await repository.release(allocationID: allocationID, logger: logger)
    }

    // MARK: usage

    public func record(_ inputs: [UsageInput], idempotencyKey: String?, requestHash: String, logger: Logger) async throws -> RecordOutcome {
        let now = clock()
        return try await withFreshCatalog(logger: logger) { catalog in
            let records = inputs.map { ledgerRecord(for: $0, allocationID: nil, catalog: catalog, now: now) }
            let outcome = try await repository.record(records, generation: catalog.generation, idempotencyKey: idempotencyKey,
                                                       requestHash: requestHash, logger: logger)
            if case .stale = outcome { return nil }
            return outcome
        }
    }

    /// Prices a call (caller's cost, else the current price, else unpriced) and lists the windows
    /// its spend counts against at the time it occurred.
    func ledgerRecord(for input: UsageInput, allocationID: UUID?, catalog: LimitCatalog, now: Date) -> LedgerRecord {
        let occurredAt = InstantFormat.wholeMilliseconds(input.occurredAt ?? now)   // decided as stored
        let price = catalog.price(provider: input.scope.provider, model: input.scope.model, naming: naming)
        let cost: Decimal?
        let status: PricingStatus
        if let stated = input.costUSD {
            (cost, status) = (stated, .callerPriced)
        } else if let price {
            (cost, status) = (CostCalculator.cost(of: input.usage, at: price, batch: input.batch, madeAt: occurredAt), .priced)
        } else {
            (cost, status) = (nil, .unpriced)
        }
        let tokens = Decimal(input.usage.total ?? Int64.max)
        let windows = catalog.applicableLimits(for: input.scope, at: occurredAt).map { applicable in
            WindowSpec(applicable, request: applicable.limit.metric == .tokens ? tokens : (cost ?? 0))
        }
        return LedgerRecord(id: UUID.timeOrdered(at: now), occurredAt: occurredAt, scope: input.scope, usage: input.usage, cost: cost, pricingStatus: status,
                            priceID: status == .priced ? price?.id : nil, allocationID: allocationID, requestID: input.requestID,
                            origin: input.origin, metadata: input.metadata, windows: windows, batch: input.batch)
    }

    // MARK: status

    public func status(query: Scope, budgetID: UUID?, logger: Logger) async throws -> [WindowSpec] {
        let catalog = try await self.catalog.current()
        let specs = catalog.limitsForStatus(query: query, budgetID: budgetID, at: clock()).map { WindowSpec($0, request: 0) }
        return try await repository.states(of: specs, logger: logger)
    }
}
