// One price sync: fetch every enabled source (concurrently, each with its own timeout), parse,
// verify per model against the current prices, and say what would change. A source that fails
// (HTTP error, timeout, malformed data) is recorded as failed and the others go on.
import AsyncHTTPClient
import Foundation
import Logging

public struct SourceOutcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case fetched, failed
        case notModified = "not_modified"
        /// Fetched within its refresh interval: what it said last time is used.
        case notDue = "not_due"
    }
    public var source: String
    public var status: Status
    public var observations: Int
    public var skipped: Int
    public var error: String?
    /// Validators to send next time (per document URL).
    public var validators: [String: Validators]
}

public struct Validators: Sendable, Hashable, Codable {
    public var etag: String?
    public var lastModified: String?
    public init(etag: String?, lastModified: String?) {
        self.etag = etag
        self.lastModified = lastModified
    }
}

public struct SyncReport: Sendable {
    public var outcomes: [SourceOutcome]
    public var observations: [PriceObservation] { documents.flatMap(\.observations) }
    /// What each fetched (or, on 304, reused) document said.
    public var documents: [(url: String, observations: [PriceObservation])]
    public var results: [CanonicalModelKey: VerificationResult]

    /// Models whose accepted price differs from the current one (new versions to write).
    public var changes: [VerificationResult] {
        results.values.filter { result in
            result.status != .conflict && result.outcomes.values.contains { outcome in
                switch outcome {
                case .changed, .singleSource: return true
                default: return false
                }
            }
        }.sorted { "\($0.key)" < "\("\($1.key)")" }
    }

    public var conflicts: [VerificationResult] {
        results.values.filter { $0.status == .conflict }.sorted { "\($0.key)" < "\($1.key)" }
    }
}

public struct PriceSync: Sendable {
    public let sources: [PriceSourceConfig]
    let fetcher: PriceFetcher
    let verifier: PriceVerifier
    let normaliser: ModelNormaliser
    let logger: Logger

    public init(sources: [PriceSourceConfig], fetcher: PriceFetcher, policy: VerificationPolicy = VerificationPolicy(),
                normaliser: ModelNormaliser = ModelNormaliser(), logger: Logger) throws {
        self.sources = sources.filter(\.enabled)
        self.fetcher = fetcher
        self.normaliser = normaliser
        self.verifier = try PriceVerifier(sources: sources.map(\.profile), policy: policy)
        self.logger = logger
    }

    /// `validators` are the ETag/Last-Modified seen last time per document URL; `cached` holds the
    /// observations of documents that may answer 304 (a 304 reuses them).
    /// Sources named in `notDue` are not fetched when `cached` holds what their documents said.
    public func run(current: [CanonicalModelKey: PriceSet], validators: [String: Validators] = [:],
                    cached: [String: [PriceObservation]] = [:], notDue: Set<String> = [], now: Date = Date()) async throws -> SyncReport {
        let perSource = await withTaskGroup(of: (SourceOutcome, [(String, [PriceObservation])]).self) { group in
            for source in sources {
                group.addTask { await fetchAndParse(source, validators: validators, cached: cached, notDue: notDue.contains(source.name), now: now) }
            }
            var collected: [(SourceOutcome, [(String, [PriceObservation])])] = []
            for await item in group { collected.append(item) }
            return collected.sorted { $0.0.source < $1.0.source }
        }
        let documents = perSource.flatMap(\.1).map { (url: $0.0, observations: $0.1) }
        let results = try verifier.verifyAll(documents.flatMap(\.observations), current: current)
        return SyncReport(outcomes: perSource.map(\.0), documents: documents, results: results)
    }

    private func fetchAndParse(_ source: PriceSourceConfig, validators: [String: Validators], cached: [String: [PriceObservation]],
                               notDue: Bool, now: Date) async -> (SourceOutcome, [(String, [PriceObservation])]) {
        var outcome = SourceOutcome(source: source.name, status: .fetched, observations: 0, skipped: 0, error: nil, validators: [:])
        var documents: [(String, [PriceObservation])] = []
        if notDue, source.documents.allSatisfy({ cached[$0.url] != nil }) {
            outcome.status = .notDue
            documents = source.documents.map { ($0.url, cached[$0.url] ?? []) }
            outcome.observations = documents.reduce(0) { $0 + $1.1.count }
            return (outcome, documents)
        }
        let fetcher = self.fetcher.with(timeout: .seconds(source.timeoutSeconds))
        let spacing: Duration? = source.requestsPerMinute.map { .milliseconds(60_000 / $0) }
        var notModified = 0
        let adapter = source.format.adapter(sourceName: source.name, evaluatedAt: now, normaliser: normaliser)
        do {
            for (index, document) in source.documents.enumerated() {
                if index > 0, let spacing { try await Task.sleep(for: spacing) }
                let previous = validators[document.url]
                let fetched = try await fetcher.fetch(document.url, provider: document.provider, etag: previous?.etag, lastModified: previous?.lastModified)
                outcome.validators[document.url] = Validators(etag: fetched.etag, lastModified: fetched.lastModified)
                guard let body = fetched.body else {
                    notModified += 1
                    documents.append((document.url, cached[document.url] ?? []))
                    continue
                }
                let parsed = try adapter.parse(body, provider: document.provider)
                documents.append((document.url, parsed.observations))
                outcome.skipped += parsed.skipped.count
            }
            if notModified == source.documents.count { outcome.status = .notModified }
        } catch {
            logger.warning("price source failed", metadata: ["source": "\(source.name)", "error": "\(error)"])
            outcome.status = .failed
            outcome.error = "\(error)"
            return (outcome, [])
        }
        outcome.observations = documents.reduce(0) { $0 + $1.1.count }
        return (outcome, documents)
    }
}
