// A whole sync as `budget prices sync` and `budget serve` run it: under the sync lock, compare
// the sources with the stored prices and (unless a dry run) write the new versions, the
// observations, the conflicts and the run record.
import BudgetCore
import BudgetStore
import Foundation
import Logging
import PostgresNIO

public struct PriceSyncSummary: Sendable {
    public var runID: Int64
    public var dryRun: Bool
    public var status: String
    public var outcomes: [SourceOutcome]
    public var plan: PriceUpdatePlan
}

public struct PriceSyncJob: Sendable {
    let sources: [PriceSourceConfig]
    let fetcher: PriceFetcher
    let repository: PriceSyncRepository
    let prices: PriceRepository
    let logger: Logger

    public init(sources: [PriceSourceConfig], client: PostgresClient, fetcher: PriceFetcher = PriceFetcher(), logger: Logger) {
        self.sources = sources
        self.fetcher = fetcher
        self.repository = PriceSyncRepository(client: client)
        self.prices = PriceRepository(client: client)
        self.logger = logger
    }

    /// Nil when another Budget process is syncing right now. With `onlyDue` (the schedule), a source
    /// fetched successfully within its refresh interval is not fetched again; what it said is reused.
    public func run(dryRun: Bool, onlyDue: Bool = false, now: Date = Date()) async throws -> PriceSyncSummary? {
        try await repository.withSyncLock(logger: logger) {
            try await runLocked(dryRun: dryRun, onlyDue: onlyDue, now: now)
        }
    }

    /// The built-in normalisation with the admin's rows of `model_aliases` on top.
    private func normaliser() async throws -> ModelNormaliser {
        let rows = try await repository.aliases(logger: logger).map { row in
            ModelAliasRow(provider: row.provider, model: row.model, canonicalProvider: row.canonicalProvider,
                          canonicalModel: row.canonicalModel, note: row.note ?? "model_aliases")
        }
        return ModelNormaliser(aliases: try ModelAliases.builtIn.merging(rows))
    }

    private func runLocked(dryRun: Bool, onlyDue: Bool, now: Date) async throws -> PriceSyncSummary {
        let normaliser = try await normaliser()
        var current: [CanonicalModelKey: CurrentPrice] = [:]
        for record in try await prices.current(logger: logger) {
            let price = record.price
            var set = PriceSet(input: price.input, output: price.output, cacheRead: price.cacheRead, cacheWrite: price.cacheWrite,
                               reasoning: price.reasoning, batchInput: price.batchInput, batchOutput: price.batchOutput)
            set.contextTiers = price.contextTiers.map {
                ContextTierPrice(thresholdTokens: $0.thresholdTokens, input: $0.input, output: $0.output, cacheRead: $0.cacheRead, cacheWrite: $0.cacheWrite)
            }
            set.timesOfDay = price.timesOfDay
            current[CanonicalModelKey(storedProvider: record.key.provider, model: record.key.model)] = CurrentPrice(prices: set, status: record.status)
        }
        let states = try await repository.sourceStates(logger: logger)
        let (validators, cached) = try await previousDocuments(states: states, normaliser: normaliser)
        let notDue = onlyDue ? Set(sources.filter { source in
            states[source.name]?.lastSuccessAt.map { now.timeIntervalSince($0) < TimeInterval(source.refreshSeconds) } ?? false
        }.map(\.name)) : []
        let sync = try PriceSync(sources: sources, fetcher: fetcher, normaliser: normaliser, logger: logger)
        let report = try await sync.run(current: current.mapValues(\.prices), validators: validators, cached: cached, notDue: notDue, now: now)
        let plan = PriceUpdatePlan.make(results: report.results, current: current)

        let failed = report.outcomes.filter { $0.status == .failed }.count
        let status = failed == 0 ? "succeeded" : (failed == report.outcomes.count ? "failed" : "partial")
        let fetchedURLs = Set(report.outcomes.filter { $0.status == .fetched }.flatMap { $0.validators.keys })
        let runID = try await repository.record(PriceSyncRepository.RunRecord(
            dryRun: dryRun, status: status,
            outcomes: try json(report.outcomes.map(Self.outcomeJSON)),
            sources: try json(sources.compactMap { source -> SourceRow? in
                let outcome = report.outcomes.first { $0.source == source.name }
                return outcome?.status == .notDue ? nil : sourceJSON(source, outcome: outcome)
            }),
            observations: try json(report.documents.filter { fetchedURLs.contains($0.url) }.flatMap { document in
                document.observations.map { Self.observationJSON($0, url: document.url) }
            }),
            conflicts: try json(plan.conflicts.map(Self.conflictJSON)),
            versions: plan.changes.map(Self.version),
            unchanged: plan.unchanged
        ), logger: logger)
        if failed > 0 && !dryRun {
            let failures = report.outcomes.filter { $0.status == .failed }.map { "\($0.source): \($0.error ?? "failed")" }
            try await repository.recordFailure((status == "failed" ? "every price source failed: " : "price sources failed: ")
                                               + failures.joined(separator: "; "), logger: logger)
        }
        return PriceSyncSummary(runID: runID, dryRun: dryRun, status: status, outcomes: report.outcomes, plan: plan)
    }

    /// What the sources said last time, for documents that may now answer 304 Not Modified.
    private func previousDocuments(states: [String: PriceSyncRepository.SourceState],
                                   normaliser: ModelNormaliser) async throws -> ([String: Validators], [String: [PriceObservation]]) {
        var validators: [String: Validators] = [:]
        for state in states.values {
            let stored = try JSONDecoder().decode([String: StoredValidators].self, from: Data(state.validators.utf8))
            for (url, value) in stored { validators[url] = Validators(etag: value.etag, lastModified: value.lastModified) }
        }
        var cached: [String: [PriceObservation]] = [:]
        for url in validators.keys {
            let rows = try JSONDecoder().decode([StoredObservation].self, from: Data(try await repository.lastObservations(documentURL: url, logger: logger).utf8))
            cached[url] = rows.compactMap { row in
                guard let format = PriceSourceFormat(rawValue: row.format),
                      let canonical = try? normaliser.canonical(provider: row.rawProvider, model: row.rawModel) else { return nil }
                var prices = PriceSet()
                for (field, text) in row.prices {
                    if let field = PriceField(rawValue: field) { prices[field] = Decimal(string: text) }
                }
                return PriceObservation(source: row.source, format: format, rawProvider: row.rawProvider, rawModel: row.rawModel,
                                        canonical: canonical, prices: prices, rawEntry: "{}")
            }
            // Without what the document said before, a 304 cannot be used: fetch it whole.
            if cached[url]?.isEmpty ?? true { validators[url] = nil; cached[url] = nil }
        }
        return (validators, cached)
    }

    // MARK: JSON for the repository

    struct StoredValidators: Codable {
        var etag: String?
        var lastModified: String?
        enum CodingKeys: String, CodingKey { case etag, lastModified = "last_modified" }
    }

    struct StoredObservation: Decodable {
        var source: String
        var format: String
        var rawProvider: String?
        var rawModel: String
        var prices: [String: String]
        enum CodingKeys: String, CodingKey { case source, format, prices, rawProvider = "raw_provider", rawModel = "raw_model" }
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func outcomeJSON(_ outcome: SourceOutcome) -> [String: String?] {
        ["source": outcome.source, "status": outcome.status.rawValue, "observations": String(outcome.observations),
         "skipped": String(outcome.skipped), "error": outcome.error]
    }

    struct SourceRow: Encodable {
        var name: String, format: String, url: String, weight: String, lineage: String?
        var refreshSeconds: Int, enabled: Bool, validators: [String: StoredValidators], error: String?
        enum CodingKeys: String, CodingKey {
            case name, format, url, weight, lineage, enabled, validators, error, refreshSeconds = "refresh_seconds"
        }
    }

    func sourceJSON(_ source: PriceSourceConfig, outcome: SourceOutcome?) -> SourceRow {
        SourceRow(name: source.name, format: source.format.rawValue, url: source.url, weight: "\(source.weight)", lineage: source.lineage,
                  refreshSeconds: source.refreshSeconds, enabled: source.enabled,
                  validators: (outcome?.validators ?? [:]).mapValues { StoredValidators(etag: $0.etag, lastModified: $0.lastModified) },
                  error: outcome?.error)
    }

    struct ObservationRow: Encodable {
        var source: String, documentURL: String, format: String, rawProvider: String?, rawModel: String
        var providerKey: String, modelKey: String, region: String?, prices: [String: String], rawEntry: String
        enum CodingKeys: String, CodingKey {
            case source, format, region, prices
            case documentURL = "document_url", rawProvider = "raw_provider", rawModel = "raw_model"
            case providerKey = "provider_key", modelKey = "model_key", rawEntry = "raw_entry"
        }
    }

    static func observationJSON(_ observation: PriceObservation, url: String) -> ObservationRow {
        ObservationRow(source: observation.source, documentURL: url, format: observation.format.rawValue, rawProvider: observation.rawProvider,
                       rawModel: observation.rawModel, providerKey: observation.key.provider, modelKey: observation.key.model,
                       region: observation.key.region, prices: pricesJSON(observation.prices), rawEntry: observation.rawEntry)
    }

    static func pricesJSON(_ prices: PriceSet) -> [String: String] {
        var out: [String: String] = [:]
        for field in PriceField.allCases { if let value = prices[field] { out[field.rawValue] = "\(value)" } }
        return out
    }

    struct ConflictRow: Encodable {
        var provider: String, model: String, region: String?
        var fields: [String: [[String: String]]]
    }

    static func conflictJSON(_ result: VerificationResult) -> ConflictRow {
        var fields: [String: [[String: String]]] = [:]
        for (field, outcome) in result.outcomes {
            if case .conflict(let values) = outcome {
                fields[field.rawValue] = values.map { ["source": $0.source, "value": "\($0.value)", "weight": "\($0.weight)"] }
            }
        }
        return ConflictRow(provider: result.key.provider, model: result.key.model, region: result.key.region, fields: fields)
    }

    /// Per field, the sources that decided it: `{"input": [{"source", "value", "weight"}]}`.
    static func provenanceRows(_ change: PlannedPriceChange) -> [String: [[String: String]]] {
        var provenance: [String: [[String: String]]] = [:]
        for (field, values) in change.provenance {
            provenance[field.rawValue] = values.map { ["source": $0.source, "value": "\($0.value)", "weight": "\($0.weight)"] }
        }
        return provenance
    }

    static func version(_ change: PlannedPriceChange) -> PriceSyncRepository.NewVersion {
        PriceSyncRepository.NewVersion(
            provider: change.key.storedProvider, model: change.key.model, input: change.new[.input]!, output: change.new[.output]!,
            cacheRead: change.new[.cacheRead], cacheWrite: change.new[.cacheWrite], reasoning: change.new[.reasoning],
            batchInput: change.new[.batchInput], batchOutput: change.new[.batchOutput],
            status: change.status.rawValue, provenance: jsonText(provenanceRows(change)), contextTiers: jsonText(tiersJSON(change.new.contextTiers)),
            timesOfDay: TimeOfDayPrice.json(change.new.timesOfDay))
    }

    /// Tiers as stored: `[{"threshold_tokens": 200000, "input": "…", …}]`, decimals as strings.
    public static func tiersJSON(_ tiers: [ContextTierPrice]) -> [TierRow] {
        tiers.map { tier in
            TierRow(thresholdTokens: tier.thresholdTokens, input: tier.input.map { "\($0)" }, output: tier.output.map { "\($0)" },
                    cacheRead: tier.cacheRead.map { "\($0)" }, cacheWrite: tier.cacheWrite.map { "\($0)" })
        }
    }

    public struct TierRow: Codable, Sendable {
        var thresholdTokens: Int64
        var input: String?, output: String?, cacheRead: String?, cacheWrite: String?
        enum CodingKeys: String, CodingKey {
            case input, output, thresholdTokens = "threshold_tokens", cacheRead = "cache_read", cacheWrite = "cache_write"
        }
    }

    /// Encoding dictionaries and arrays of strings cannot fail.
    static func jsonText(_ value: some Encodable) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
