// The load generator behind `budget bench`: set-up through the API, concurrent request loops, latency figures.
import Foundation
import NIOCore
import NIOPosix

/// Benchmarks the Budget server at `baseURL`; the callers stop by themselves after `warmup + duration`.
func runLoad(baseURL: String, clients: Int, duration: Duration, warmup: Duration, checkOnly: Bool, rate: Double?,
             threads: Int = 1, keepCalls: Bool = false, idempotencyKeys: Bool = false) async throws -> BenchReport {
    try await LoadGenerator(baseURL: baseURL, clients: clients, duration: duration, warmup: warmup, checkOnly: checkOnly, rate: rate,
                            threads: threads, keepCalls: keepCalls, idempotencyKeys: idempotencyKeys).run()
}

struct LoadGenerator: Sendable {
    var baseURL: String
    var clients: Int
    var duration: Duration
    var warmup: Duration
    var checkOnly: Bool
    /// Pairs (or checks) per second offered by all callers together; nil: each caller starts
    /// the next as soon as the last ended (closed loop).
    var rate: Double?
    /// Event-loop threads driving the callers (a caller costs about 0.04 ms of CPU a pair, so one
    /// thread keeps up; on a machine shared with the server each extra thread is one more runnable
    /// thread taking turns with the server and PostgreSQL: measured 6-14% fewer pairs/s with two).
    var threads: Int = 1
    /// Keep every measured call in the report (`BenchReport.calls`), e.g. to find when the slow ones happened.
    var keepCalls = false
    /// Send every allocate and commit with an `Idempotency-Key` of its own, as callers that retry safely do.
    var idempotencyKeys = false
    /// A request unanswered this long counts as a timeout and ends its caller.
    var requestTimeout: TimeAmount = .seconds(10)

    func run() async throws -> BenchReport {
        guard let url = URL(string: baseURL), url.scheme == "http", let host = url.host else {
            throw ClientError(kind: .unreachable, message: "budget bench speaks plain HTTP/1.1: give an http:// URL, not '\(baseURL)'")
        }
        let port = url.port ?? 80
        // The set-up goes through the ordinary client; the load through BenchCaller connections.
        let apiKey = BudgetHTTPClient.environmentAPIKey()
        let fixture = try await BudgetHTTPClient.withHTTPClient(configuration: BudgetHTTPClient.commandLineConfiguration) { httpClient in
            try await BenchFixture.create(using: BudgetHTTPClient(baseURL: baseURL, httpClient: httpClient, apiKey: apiKey))
        }
        let requests = BenchRequests(host: url.port.map { "\(host):\($0)" } ?? host, fixture: fixture, idempotencyKeys: idempotencyKeys,
                                     apiKey: apiKey)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let samples: BenchSamples
        do {
            samples = try await callers(group: group, host: host, port: port, requests: requests)
            try await group.shutdownGracefully()
        } catch {
            // The run's own failure is the one to report; the threads go with the process anyway.
            try? await group.shutdownGracefully()
            throw error
        }
        return BenchReport(
            baseURL: baseURL, clients: clients, duration: duration, warmup: warmup, checkOnly: checkOnly, offeredRate: rate,
            budgetID: fixture.budgetID, component: fixture.component, idempotencyKeys: idempotencyKeys,
            completed: checkOnly ? samples.check.count : samples.pair.count,
            allocate: LatencySummary(samples.allocate), commit: LatencySummary(samples.commit),
            pair: LatencySummary(samples.pair), check: LatencySummary(samples.check),
            errors: samples.errors, calls: samples.calls.sorted { $0.start < $1.start }
        )
    }

    /// Connects `clients` callers (spread over the event loops), runs them and merges what they measured.
    private func callers(group: MultiThreadedEventLoopGroup, host: String, port: Int, requests: BenchRequests) async throws -> BenchSamples {
        // A moment for the connections to open before the first start.
        let start = NIODeadline.now() + .milliseconds(200)
        let measureFrom = start + TimeAmount(warmup)
        let stopAt = measureFrom + TimeAmount(duration)
        let interval = rate.map { TimeAmount.nanoseconds(Int64((Double(clients) / $0 * 1e9).rounded())) }
        let checkOnly = checkOnly
        var results: [EventLoopFuture<BenchSamples>] = []
        for index in 0..<clients {
            let loop = group.next()
            let done = loop.makePromise(of: BenchSamples.self)
            // With a rate, the callers' starts are staggered across one interval.
            let firstStart = interval.map { start + .nanoseconds($0.nanoseconds * Int64(index) / Int64(clients)) } ?? start
            let schedule = BenchSchedule(measureFrom: measureFrom, keepCalls: keepCalls, stopAt: stopAt, interval: interval, firstStart: firstStart,
                                         requestTimeout: requestTimeout)
            ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(BenchCaller(requests: requests, caller: index, schedule: schedule, checkOnly: checkOnly, done: done))
                    }
                }
                .connect(host: host, port: port)
                .whenFailure { _ in
                    var samples = BenchSamples()
                    samples.errors[checkOnly ? "check unreachable" : "allocate unreachable"] = 1
                    done.succeed(samples)
                }
            results.append(done.futureResult)
        }
        var merged = BenchSamples()
        for result in results { merged.merge(try await result.get()) }
        return merged
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
    /// Every measured call, when the run keeps them.
    var calls: [BenchCall] = []
    /// Failed requests by step and HTTP status (or `unreachable`/`timeout`), e.g. `allocate 429`.
    var errors: [String: Int] = [:]

    mutating func merge(_ other: BenchSamples) {
        allocate += other.allocate
        commit += other.commit
        pair += other.pair
        check += other.check
        calls += other.calls
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}

/// One measured call: which request, when it started (or was due, in an open loop) counted from
/// the start of the measured window, and how long it took.
struct BenchCall: Sendable {
    enum Kind: String, Sendable { case allocate, commit, check }
    var kind: Kind
    var start: TimeAmount
    var latency: TimeAmount

    /// The calls as CSV, one line each after a header: start and latency in milliseconds.
    static func csv(_ calls: [BenchCall]) -> String {
        func milliseconds(_ amount: TimeAmount) -> String { String(format: "%.3f", Double(amount.nanoseconds) / 1e6) }
        var text = "start_ms,latency_ms,call\n"
        for call in calls { text += "\(milliseconds(call.start)),\(milliseconds(call.latency)),\(call.kind.rawValue)\n" }
        return text
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
    /// Pairs (or checks) per second offered (open loop); nil for a closed loop.
    var offeredRate: Double?
    var budgetID: String
    var component: String
    /// Whether every allocate and commit carried an Idempotency-Key.
    var idempotencyKeys = false
    /// Allocate+commit pairs (or checks) that succeeded and began inside the measured window.
    var completed: Int
    var allocate: LatencySummary?
    var commit: LatencySummary?
    var pair: LatencySummary?
    var check: LatencySummary?
    var errors: [String: Int]
    /// Every measured call in order of start, when the run kept them (not part of the JSON).
    var calls: [BenchCall] = []

    var perSecond: Double {
        let seconds = duration.seconds
        return seconds > 0 ? Double(completed) / seconds : 0
    }

    func render() -> String {
        let unit = checkOnly ? "checks" : "pairs"
        var lines = [
            "bench against \(baseURL): \(clients) clients, \(Self.format(duration.seconds)) s measured after \(Self.format(warmup.seconds)) s warm-up",
            offeredRate.map { "offered: \(Self.format($0)) \(unit)/s (open loop: latencies count from when each \(checkOnly ? "check" : "pair") was due)" }
                ?? "closed loop: each client starts the next \(checkOnly ? "check" : "pair") when the last has ended",
            "set-up: budget \(budgetID), component \(component)" + (idempotencyKeys ? "; every allocate and commit with an Idempotency-Key" : ""),
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
        case baseURL = "base_url", clients, mode, offeredRate = "offered_per_second", durationSeconds = "duration_s", warmupSeconds = "warmup_s"
        case budgetID = "budget_id", component, idempotencyKeys = "idempotency_keys", completed, perSecond = "per_second", latencyMS = "latency_ms", errors
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
        try container.encode(offeredRate, forKey: .offeredRate)
        try container.encode(duration.seconds, forKey: .durationSeconds)
        try container.encode(warmup.seconds, forKey: .warmupSeconds)
        try container.encode(budgetID, forKey: .budgetID)
        try container.encode(component, forKey: .component)
        try container.encode(idempotencyKeys, forKey: .idempotencyKeys)
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
