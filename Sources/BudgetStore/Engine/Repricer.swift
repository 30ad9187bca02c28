// Repricing unpriced usage: each record is priced with the current price of its model (exact
// cost), and the dollar windows of the limits it counts against receive that spend.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct RepriceReport: Sendable {
    public struct Line: Sendable, Hashable {
        public var provider: String
        public var model: String
        public var records: Int
        public var cost: Decimal
    }

    public var examined = 0
    public var repriced = 0
    /// Unpriced records whose model still has no price.
    public var stillUnpriced = 0
    /// Per model: records repriced and the cost they added (negative when a price went down).
    public var lines: [Line] = []
    public var totalCost: Decimal { lines.reduce(0) { $0 + $1.cost } }
}

extension BudgetEngine {
    /// Prices the records that occurred in [from, to) and are unpriced — or, with `wrongVersion`,
    /// were priced by that price version — with the current prices. With `dryRun`, only reports.
    public func reprice(from: Date, to: Date, wrongVersion: UUID? = nil, dryRun: Bool, logger: Logger) async throws -> RepriceReport {
        var report = RepriceReport()
        try await reprice(into: &report, dryRun: dryRun, logger: logger) { after in
            try await repository.toReprice(from: from, to: to, pricedBy: wrongVersion, after: after, limit: 1000, logger: logger)
        }
        return report
    }

    /// Prices the unpriced records, whenever they occurred, whose model has a price in the catalog
    /// of `generation` or a newer one (nil: the catalog as it is now, freshly read). Records of
    /// models still without a price are not read. `budget serve` runs this after every change of
    /// the catalog (MaintenanceService), and `budget import rhetor` after an import.
    public func repriceUnpriced(catalogGeneration generation: Int64? = nil, logger: Logger) async throws -> RepriceReport {
        let catalog = try await self.catalog.reload(ifOlderThan: generation.map { $0 - 1 })
        var report = RepriceReport()
        for model in try await repository.unpricedModels(logger: logger)
        where catalog.price(provider: model.provider, model: model.model, naming: naming) != nil {
            try await reprice(into: &report, dryRun: false, logger: logger) { after in
                try await repository.unpriced(provider: model.provider, model: model.model, after: after, limit: 1000, logger: logger)
            }
        }
        return report
    }

    /// Reprices page after page (`nextPage` gives the page after a keyset position) into `report`.
    private func reprice(into report: inout RepriceReport, dryRun: Bool, logger: Logger,
                         nextPage: (_ after: (Int64, UUID)?) async throws -> [(record: LedgerRecord, position: Int64)]) async throws {
        // Per model as recorded ([provider, model]: a model name may itself hold a slash).
        var totals = Dictionary(report.lines.map { ([$0.provider, $0.model], $0) }, uniquingKeysWith: { first, _ in first })
        var after: (Int64, UUID)?
        while true {
            let page = try await nextPage(after)
            guard let last = page.last else { break }
            after = (last.position, last.record.id)
            report.examined += page.count
            // Ids actually repriced, with the cost each was given.
            let outcome: [UUID: Decimal] = try await withFreshCatalog(logger: logger) { catalog in
                var records: [LedgerRecord] = []
                var costs: [UUID: Decimal] = [:]
                for (record, _) in page {
                    guard let price = catalog.price(provider: record.scope.provider, model: record.scope.model, naming: naming),
                          price.id != record.priceID else { continue }
                    var priced = record
                    let cost = CostCalculator.cost(of: record.usage, at: price, batch: record.batch ?? false, madeAt: record.occurredAt)
                    // What the windows already counted for this record (nothing if it was unpriced).
                    let counted = record.pricingStatus == .priced ? (record.costUSD.flatMap { Decimal(exactly: $0) } ?? 0) : 0
                    priced.costUSD = cost.plainText
                    priced.priceID = price.id
                    priced.previousPriceID = record.pricingStatus == .priced ? record.priceID : nil
                    priced.windows = catalog.applicableLimits(for: record.scope, at: record.occurredAt)
                        .filter { $0.limit.metric == .costUSD }
                        .map { WindowSpec($0, request: cost - counted) }
                    records.append(priced)
                    costs[record.id] = cost - counted
                }
                if dryRun || records.isEmpty { return costs }
                guard let done = try await repository.reprice(records, generation: catalog.generation, logger: logger) else { return nil }
                return costs.filter { done.contains($0.key) }
            }
            for (record, _) in page {
                guard let cost = outcome[record.id] else { report.stillUnpriced += 1; continue }
                let key = [record.scope.provider ?? "", record.scope.model ?? ""]
                var line = totals[key] ?? .init(provider: record.scope.provider ?? "", model: record.scope.model ?? "", records: 0, cost: 0)
                line.records += 1
                line.cost += cost
                totals[key] = line
                report.repriced += 1
            }
        }
        report.lines = totals.values.sorted { ($0.provider, $0.model) < ($1.provider, $1.model) }
    }
}

extension EngineRepository {
    /// Ledger rows in [from, to) that are unpriced (or priced by `pricedBy`), oldest first, one page.
    func toReprice(from: Date, to: Date, pricedBy: UUID?, after: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [(record: LedgerRecord, position: Int64)] {
        var query = UsageQuery(from: from, to: to, limit: limit)
        query.onlyUnpriced = pricedBy == nil
        query.pricedBy = pricedBy
        query.oldestFirst = true
        query.after = after
        return try await usage(query, logger: logger)
    }

    /// The (provider, model) pairs, as recorded, that unpriced records name (both present: a
    /// record without either cannot be priced). Read from the partial index of unpriced rows (0023).
    func unpricedModels(logger: Logger) async throws -> [(provider: String, model: String)] {
        let rows = try await client.collect("""
            SELECT DISTINCT provider, model FROM usage_records
            WHERE pricing_status = 'unpriced' AND provider IS NOT NULL AND model IS NOT NULL
            """, logger: logger)
        var models: [(provider: String, model: String)] = []
        for try await (provider, model) in rows.decode((String, String).self) { models.append((provider, model)) }
        return models
    }

    /// One page of the unpriced records of one (provider, model) as recorded, oldest first.
    func unpriced(provider: String, model: String, after: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [(record: LedgerRecord, position: Int64)] {
        let afterMicros = after?.0
        let afterID = after?.1
        return try await Self.ledgerRecords(try await client.collect("""
            SELECT id, occurred_at, component, provider, model, task_type, tier, tags, session_id, task_id,
                   input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                   cost_usd, pricing_status, price_id, allocation_id, request_id, origin, metadata::text,
                   (extract(epoch FROM occurred_at) * 1000000)::bigint, batch
            FROM usage_records
            WHERE pricing_status = 'unpriced' AND provider = \(provider) AND model = \(model)
              AND (\(afterMicros)::bigint IS NULL
                   OR (occurred_at, id) > (timestamptz 'epoch' + \(afterMicros)::bigint * interval '1 microsecond', \(afterID)))
            ORDER BY occurred_at, id
            LIMIT \(limit)
            """, logger: logger))
    }

    /// Returns the ids actually repriced, or nil when the catalog was stale.
    func reprice(_ records: [LedgerRecord], generation: Int64, logger: Logger) async throws -> [UUID]? {
        let rows = try await client.collect("SELECT budget_reprice(\(try EngineJSON.encodeWithExactInstants(records))::jsonb, \(generation))::text", logger: logger)
        for try await text in rows.decode(String.self) {
            struct Result: Decodable { var outcome: String; var ids: [UUID]? }
            let result = try JSONDecoder().decode(Result.self, from: Data(text.utf8))
            return result.outcome == "stale" ? nil : (result.ids ?? [])
        }
        throw StoreError(.corrupt, "budget_reprice returned no row")
    }
}
