// Loads the catalog (active budgets, current limit versions, current prices, window resets) with its generation.
import BudgetCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

public struct CatalogRepository: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// The catalog's generation now, without loading the catalog: it moves with every change of
    /// a budget, limit, price, alias or window reset.
    public func generation(logger: Logger) async throws -> Int64 {
        try await client.withLiveConnection { try await Self.generation(on: $0, logger: logger) }
    }

    private static func generation(on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await value in try await connection.query("SELECT generation FROM catalog_generation", logger: logger).decode(Int64.self) {
            return value
        }
        throw StoreError(.corrupt, "catalog_generation has no row")
    }

    /// One consistent snapshot: everything is read in one REPEATABLE READ transaction.
    public func load(logger: Logger) async throws -> LimitCatalog {
        try await client.withLiveTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger) { connection in
            let generation = try await Self.generation(on: connection, logger: logger)
            var budgets: [UUID: BudgetInfo] = [:]
            for try await (id, name, zone, active) in try await connection.query(
                "SELECT id, name, timezone, active FROM budgets WHERE deleted_at IS NULL", logger: logger
            ).decode((UUID, String, String, Bool).self) {
                budgets[id] = BudgetInfo(id: id, name: name, timeZone: TimeZone(identifier: zone) ?? .gmt, active: active)
            }
            var limits: [Limit] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: LimitRepository.selectColumns + " WHERE valid_to IS NULL"), logger: logger)
                .decode(LimitRepository.Row.self) {
                limits.append(try LimitRepository.limit(from: row))
            }
            var prices: [PriceKey: Price] = [:]
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: PriceRepository.selectColumns + " WHERE effective_to IS NULL"), logger: logger)
                .decode(PriceRepository.Row.self) {
                let price = PriceRepository.price(from: row)
                prices[PriceKey(provider: row.2, model: row.3)] = price
            }
            var aliases: [PriceKey: PriceKey] = [:]
            for try await (provider, model, canonicalProvider, canonicalModel) in try await connection.query(
                "SELECT lower(btrim(provider)), lower(btrim(model)), lower(btrim(canonical_provider)), lower(btrim(canonical_model)) FROM model_aliases",
                logger: logger
            ).decode((String, String, String, String).self) {
                aliases[PriceKey(provider: provider, model: model)] = PriceKey(provider: canonicalProvider, model: canonicalModel)
            }
            let resets = try await WindowResetRepository.all(on: connection, logger: logger)
            return LimitCatalog(generation: generation, budgets: budgets, limits: limits, prices: prices, aliases: aliases, resets: resets)
        }
    }
}

/// The catalog this instance decides with. Writers report a stale generation (another instance
/// changed a budget, limit or price) and the cache reloads; a reload is shared by concurrent callers.
/// Every allocate, commit and check reads it, so the cached catalog is read under a lock, with no
/// hop to an actor's executor and back.
public final class CatalogCache: Sendable {
    private struct State {
        var catalog: LimitCatalog?
        var loading: Task<LimitCatalog, any Error>?
        /// Bumped by `invalidate`: a load begun before it may have read the old catalog, so what
        /// it brings is neither kept nor shared with callers who come after.
        var epoch: UInt64 = 0
    }

    private let repository: CatalogRepository
    private let logger: Logger
    private let state = Mutex(State())

    public init(repository: CatalogRepository, logger: Logger) {
        self.repository = repository
        self.logger = logger
    }

    public func current() async throws -> LimitCatalog {
        if let catalog = state.withLock({ $0.catalog }) { return catalog }
        return try await reload(ifOlderThan: nil)
    }

    /// Reloads unless someone already loaded a generation newer than `generation`.
    public func reload(ifOlderThan generation: Int64?) async throws -> LimitCatalog {
        let newer = state.withLock { state -> LimitCatalog? in
            guard let catalog = state.catalog, let generation, catalog.generation > generation else { return nil }
            return catalog
        }
        if let newer { return newer }
        return try await Self.value(of: sharedLoad())
    }

    /// The load in flight, or a new one that stores what it loaded when it ends.
    private func sharedLoad() -> Task<LimitCatalog, any Error> {
        state.withLock { state in
            if let loading = state.loading { return loading }
            let epoch = state.epoch
            let task = Task {
                do {
                    let fresh = try await self.repository.load(logger: self.logger)
                    self.state.withLock { state in
                        guard state.epoch == epoch else { return }
                        state.catalog = fresh
                        state.loading = nil
                    }
                    return fresh
                } catch {
                    self.state.withLock { state in
                        if state.epoch == epoch { state.loading = nil }
                    }
                    throw error
                }
            }
            state.loading = task
            return task
        }
    }

    /// The shared load is an unstructured task; a cancelled caller (a request past its deadline)
    /// cancels it too, or the caller would wait as long as the database is away.
    private static func value(of task: Task<LimitCatalog, any Error>) async throws -> LimitCatalog {
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Called after this instance changed the catalog itself.
    public func invalidate() {
        state.withLock { state in
            state.catalog = nil
            state.loading = nil
            state.epoch &+= 1
        }
    }
}
