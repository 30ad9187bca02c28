// The price catalogue bundled with Budget (sql/seed/price-catalogue.json), so that a fresh
// install without network prices usage from its first start. Generated from the sources by
// `budget prices bundle`, with the same verification and provenance as a sync.
import BudgetCore
import Foundation
import Logging

public struct PriceCatalogue: Codable, Sendable {
    public struct Source: Codable, Sendable {
        public var name: String
        public var url: String
        public var status: String
    }

    public struct Entry: Codable, Sendable {
        public var provider: String
        public var model: String
        public var status: String
        public var prices: [String: String]
        public var provenance: [String: [[String: String]]]
        public var contextTiers: [PriceSyncJob.TierRow]?
        public var timesOfDay: [TimeOfDayPrice.Row]?

        enum CodingKeys: String, CodingKey {
            case provider, model, status, prices, provenance
            case contextTiers = "context_tiers"
            case timesOfDay = "times_of_day"
        }
    }

    public var generatedAt: String
    /// Where the data came from, in words (e.g. which snapshots were served to the generator).
    public var note: String?
    public var sources: [Source]
    public var prices: [Entry]

    enum CodingKeys: String, CodingKey {
        case sources, prices, note
        case generatedAt = "generated_at"
    }

    /// Verifies the sources against no current prices and keeps every model a sync would write.
    public static func generate(sources: [PriceSourceConfig], fetcher: PriceFetcher = PriceFetcher(), now: Date = Date(),
                                note: String? = nil, logger: Logger) async throws -> PriceCatalogue {
        let report = try await PriceSync(sources: sources, fetcher: fetcher, logger: logger).run(current: [:], now: now)
        let plan = PriceUpdatePlan.make(results: report.results, current: [:])
        return PriceCatalogue(
            generatedAt: now.formatted(Date.ISO8601FormatStyle()),
            note: note,
            sources: sources.map { source in
                Source(name: source.name, url: source.url, status: report.outcomes.first { $0.source == source.name }?.status.rawValue ?? "disabled")
            },
            prices: plan.changes.map { change in
                Entry(provider: change.key.storedProvider, model: change.key.model, status: change.status.rawValue,
                             prices: PriceSyncJob.pricesJSON(change.new).filter { PriceUpdatePlan.storedFields.map(\.rawValue).contains($0.key) },
                             provenance: PriceSyncJob.provenanceRows(change),
                             contextTiers: change.new.contextTiers.isEmpty ? nil : PriceSyncJob.tiersJSON(change.new.contextTiers),
                             timesOfDay: change.new.timesOfDay.isEmpty ? nil : change.new.timesOfDay.map(\.row))
            }
        )
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
