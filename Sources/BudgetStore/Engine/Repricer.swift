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
        var totals: [String: RepriceReport.Line] = [:]
        var after: (Int64, UUID)?
        while true {
            let page = try await repository.toReprice(from: from, to: to, pricedBy: wrongVersion, after: after, limit: 1000, logger: logger)
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
                    let cost = CostCalculator.cost(of: record.usage, at: price)
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
                let key = "\(record.scope.provider ?? "")/\(record.scope.model ?? "")"
                var line = totals[key] ?? .init(provider: record.scope.provider ?? "", model: record.scope.model ?? "", records: 0, cost: 0)
                line.records += 1
                line.cost += cost
                totals[key] = line
                report.repriced += 1
            }
        }
        report.lines = totals.values.sorted { ($0.provider, $0.model) < ($1.provider, $1.model) }
        return report
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

    /// Returns the ids actually repriced, or nil when the catalog was stale.
    func reprice(_ records: [LedgerRecord], generation: Int64, logger: Logger) async throws -> [UUID]? {
        let rows = try await client.collect("SELECT budget_reprice(\(try EngineJSON.encode(records))::jsonb, \(generation))::text", logger: logger)
        for try await text in rows.decode(String.self) {
            struct Result: Decodable { var outcome: String; var ids: [UUID]? }
            let result = try JSONDecoder().decode(Result.self, from: Data(text.utf8))
            return result.outcome == "stale" ? nil : (result.ids ?? [])
        }
        throw StoreError(.corrupt, "budget_reprice returned no row")
    }
}
