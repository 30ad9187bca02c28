// The load generator behind `budget bench`: set-up through the API, concurrent request loops, latency figures.
import AsyncHTTPClient
import Foundation
import NIOCore

/// Benchmarks the Budget server at `baseURL`; the loops stop by themselves after `warmup + duration`.
func runLoad(baseURL: String, clients: Int, duration: Duration, warmup: Duration, checkOnly: Bool) async throws -> BenchReport {
    try await LoadGenerator(baseURL: baseURL, clients: clients, duration: duration, warmup: warmup, checkOnly: checkOnly).run()
}

struct LoadGenerator: Sendable {
    var baseURL: String
    var clients: Int
    var duration: Duration
    var warmup: Duration
    var checkOnly: Bool
    /// Bounds how far a loop can run past the end of the measured window.
    var requestTimeout: TimeAmount = .seconds(10)

    func run() async throws -> BenchReport {
        var configuration = HTTPClient.Configuration()
        // One connection per client task, so that requests never queue inside the client itself.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, clients))
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        // A connection that cannot be made is counted as an error at once rather than retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return try await BudgetHTTPClient.withHTTPClient(configuration: configuration) { httpClient in
            try await run(using: BudgetHTTPClient(baseURL: baseURL, httpClient: httpClient, timeout: requestTimeout))
        }
    }

    func run(using http: BudgetHTTPClient) async throws -> BenchReport {
        let fixture = try await BenchFixture.create(using: http)
        let clock = ContinuousClock()
        let measureFrom = clock.now + warmup
        let stopAt = measureFrom + duration
        let checkOnly = checkOnly
        let samples = await withTaskGroup(of: BenchSamples.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    await Self.clientLoop(http: http, fixture: fixture, checkOnly: checkOnly, clock: clock, measureFrom: measureFrom, stopAt: stopAt)
                }
            }
            var merged = BenchSamples()
            for await part in group { merged.merge(part) }
            return merged
        }
        return BenchReport(
            baseURL: http.baseURL, clients: clients, duration: duration, warmup: warmup, checkOnly: checkOnly,
            budgetID: fixture.budgetID, component: fixture.component,
            completed: checkOnly ? samples.check.count : samples.pair.count,
            allocate: LatencySummary(samples.allocate), commit: LatencySummary(samples.commit),
            pair: LatencySummary(samples.pair), check: LatencySummary(samples.check),
            errors: samples.errors
        )
    }

    /// One simulated caller: allocate then commit (or check) until `stopAt`; only work begun after `measureFrom` counts.
    private static func clientLoop(
        http: BudgetHTTPClient, fixture: BenchFixture, checkOnly: Bool,
        clock: ContinuousClock, measureFrom: ContinuousClock.Instant, stopAt: ContinuousClock.Instant
    ) async -> BenchSamples {
        var samples = BenchSamples()
        while clock.now < stopAt, !Task.isCancelled {
            let began = clock.now
            let counted = began >= measureFrom
            if checkOnly {
                do {
                    _ = try await http.post("/api/v1/check", json: fixture.allocateBody)
                    if counted { samples.check.append(began.duration(to: clock.now)) }
                } catch {
                    await samples.fail("check", error, counted: counted)
                }
                continue
            }
            let allocationID: String
            do {
                let response = try await http.post("/api/v1/allocations", json: fixture.allocateBody)
                if counted { samples.allocate.append(began.duration(to: clock.now)) }
                guard let id = try ClientWire.decode(ClientWire.Identified.self, from: response.body).id?.description else {
                    throw ClientError.unreadable("allocation without id")
                }
                allocationID = id
            } catch {
                await samples.fail("allocate", error, counted: counted)
                continue
            }
            let commitBegan = clock.now
            do {
                _ = try await http.post("/api/v1/allocations/\(BudgetHTTPClient.segment(allocationID))/commit", json: fixture.commitBody)
                let ended = clock.now
                if counted {
                    samples.commit.append(commitBegan.duration(to: ended))
                    samples.pair.append(began.duration(to: ended))
                }
            } catch {
                await samples.fail("commit", error, counted: counted)
            }
        }
        return samples
    }
}

/// The budget, limit and price the bench creates for itself, under a fresh component name.
struct BenchFixture: Sendable {
    var budgetID: String
    var component: String
    var allocateBody: Data
    var commitBody: Data

    static func create(using http: BudgetHTTPClient) async throws -> BenchFixture {
        let component = "bench-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        // The name is hex only, so splicing it into JSON text needs no escaping.
        let budget = try await step("create the bench budget") {
            try await http.post("/api/v1/budgets", json: Data(#"{"name":"\#(component)"}"#.utf8))
        }
        guard let budgetID = try ClientWire.decode(ClientWire.Identified.self, from: budget.body).id?.description else {
            throw ClientError.unreadable("the created budget has no id")
        }
        let limit = #"{"scope":{"component":"\#(component)"},"period":"daily","metric":"cost_usd","amount":"1000000","policy":"enforce"}"#
        _ = try await step("add the bench limit") {
            try await http.post("/api/v1/budgets/\(BudgetHTTPClient.segment(budgetID))/limits", json: Data(limit.utf8))
        }
        _ = try await step("set the bench price") {
            try await http.put("/api/v1/prices/benchprov/bench-model", json: Data(#"{"input_per_token":"0.000003","output_per_token":"0.000015"}"#.utf8))
        }
        let allocate = #"{"scope":{"component":"\#(component)","provider":"benchprov","model":"bench-model","task_type":"bench"},"estimate":{"input_tokens":1000,"max_output_tokens":500},"ttl_seconds":60}"#
        return BenchFixture(
            budgetID: budgetID, component: component,
            allocateBody: Data(allocate.utf8),
            commitBody: Data(#"{"usage":{"input_tokens":1000,"output_tokens":400}}"#.utf8)
        )
    }

    /// Names the set-up step in the error, since a failure there says nothing about performance.
    private static func step(_ name: String, _ body: () async throws -> ClientResponse) async throws -> ClientResponse {
        do {
            return try await body()
        } catch var error as ClientError {
            error.message = "bench set-up could not \(name): \(error.message)"
            throw error
        }
    }
}

/// What one client task measured; merged after the run, so no state is shared while it runs.
struct BenchSamples: Sendable {
    var allocate: [Duration] = []
    var commit: [Duration] = []
    var pair: [Duration] = []
    var check: [Duration] = []
    /// Failed requests by step and HTTP status (or `unreachable`/`timeout`), e.g. `allocate 429`.
    var errors: [String: Int] = [:]

    mutating func fail(_ step: String, _ error: any Error, counted: Bool) async {
        let reason: String
        switch error {
        case let error as ClientError:
            reason = error.statusCode.map { String($0) } ?? "\(error.kind)"
        default:
            reason = "\(type(of: error))"
        }
        if counted { errors["\(step) \(reason)", default: 0] += 1 }
        // A server that refuses connections fails instantly; pause rather than spin.
        if (error as? ClientError)?.status == nil {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    mutating func merge(_ other: BenchSamples) {
        allocate += other.allocate
        commit += other.commit
        pair += other.pair
        check += other.check
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}

/// Latency percentiles (nearest rank) of one kind of request.
struct LatencySummary: Sendable {
    var count: Int
    var p50: Duration
    var p90: Duration
    var p99: Duration
    var max: Duration

    init?(_ samples: [Duration]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.percentile(sorted, 50)
        p90 = Self.percentile(sorted, 90)
        p99 = Self.percentile(sorted, 99)
        max = sorted[sorted.count - 1]
    }

    /// Nearest-rank percentile: the smallest sample with at least `percent`% of samples at or below it.
    static func percentile(_ sorted: [Duration], _ percent: Int) -> Duration {
        let rank = (sorted.count * percent + 99) / 100
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }
}

/// The figures of one bench run, for printing as text or JSON.
struct BenchReport: Sendable, Encodable {
    var baseURL: String
    var clients: Int
    var duration: Duration
    var warmup: Duration
    var checkOnly: Bool
    var budgetID: String
    var component: String
    /// Allocate+commit pairs (or checks) that succeeded and began inside the measured window.
    var completed: Int
    var allocate: LatencySummary?
    var commit: LatencySummary?
    var pair: LatencySummary?
    var check: LatencySummary?
    var errors: [String: Int]

    var perSecond: Double {
        let seconds = duration.seconds
        return seconds > 0 ? Double(completed) / seconds : 0
    }

    func render() -> String {
        let unit = checkOnly ? "checks" : "pairs"
        var lines = [
            "bench against \(baseURL): \(clients) clients, \(Self.format(duration.seconds)) s measured after \(Self.format(warmup.seconds)) s warm-up",
            "set-up: budget \(budgetID), component \(component)",
            "\(unit): \(completed)  (\(Self.format(perSecond)) \(unit)/s)",
            "",
        ]
        var table = TextTable(["latency ms", "count", "p50", "p90", "p99", "max"])
        let rows: [(String, LatencySummary?)] = checkOnly ? [("check", check)] : [("allocate", allocate), ("commit", commit), ("pair", pair)]
        for (name, summary) in rows {
            guard let summary else {
                table.append([name, "0", "-", "-", "-", "-"])
                continue
            }
            table.append([name, String(summary.count)] + [summary.p50, summary.p90, summary.p99, summary.max].map { Self.format($0.milliseconds) })
        }
        lines.append(table.render())
        lines.append("")
        if errors.isEmpty {
            lines.append("errors: none")
        } else {
            var errorTable = TextTable(["error", "count"])
            for (key, count) in errors.sorted(by: { $0.key < $1.key }) { errorTable.append([key, String(count)]) }
            lines.append(errorTable.render())
        }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", clients, mode, durationSeconds = "duration_s", warmupSeconds = "warmup_s"
        case budgetID = "budget_id", component, completed, perSecond = "per_second", latencyMS = "latency_ms", errors
    }

    private struct LatencyJSON: Encodable {
        var summary: LatencySummary
        enum CodingKeys: String, CodingKey { case count, p50, p90, p99, max }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(summary.count, forKey: .count)
            try container.encode(Self.rounded(summary.p50), forKey: .p50)
            try container.encode(Self.rounded(summary.p90), forKey: .p90)
            try container.encode(Self.rounded(summary.p99), forKey: .p99)
            try container.encode(Self.rounded(summary.max), forKey: .max)
        }

        /// Milliseconds to the microsecond, enough for latency and free of binary-fraction noise.
        private static func rounded(_ duration: Duration) -> Double {
            (duration.milliseconds * 1000).rounded() / 1000
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(baseURL, forKey: .baseURL)
        try container.encode(clients, forKey: .clients)
        try container.encode(checkOnly ? "check" : "allocate_commit", forKey: .mode)
        try container.encode(duration.seconds, forKey: .durationSeconds)
        try container.encode(warmup.seconds, forKey: .warmupSeconds)
        try container.encode(budgetID, forKey: .budgetID)
        try container.encode(component, forKey: .component)
        try container.encode(completed, forKey: .completed)
        try container.encode(perSecond, forKey: .perSecond)
        var latencies: [String: LatencyJSON] = [:]
        let all: [(String, LatencySummary?)] = [("allocate", allocate), ("commit", commit), ("pair", pair), ("check", check)]
        for (name, summary) in all { if let summary { latencies[name] = LatencyJSON(summary: summary) } }
        try container.encode(latencies, forKey: .latencyMS)
        try container.encode(errors, forKey: .errors)
    }
}

fileprivate extension Duration {
    /// For printing latencies only; durations themselves are compared and sorted exactly.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    var milliseconds: Double {
        seconds * 1000
    }
}
