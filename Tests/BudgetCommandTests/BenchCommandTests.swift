import BudgetStore
import BudgetTestSupport
import Foundation
import PostgresNIO
import Testing

/// `budget bench` is the instrument the speed figures come from: what it counts must be what
/// the server did. Run against a real `budget serve`, its counts are checked against the ledger.
@Suite("`budget bench` counts exactly the pairs and checks the server recorded", .serialized)
struct BenchCommandTests {
    let runner = ImportCommandTests()
    let serve = ServeProcessTests()

    struct Report: Decodable {
        var completed: Int
        var component: String
        var errors: [String: Int]
        var offered_per_second: Double?
        var latency_ms: [String: Latency]
        struct Latency: Decodable { var count: Int; var p50: Double; var p99: Double; var max: Double }
    }

    /// A server on a fresh database; `body` gets its URL and the database.
    func withServer(_ body: (String, DatabaseEndpoint) async throws -> Void) async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let port = try serve.freePort()
        let server = try serve.start(port: port, settings: ["BUDGET_DATABASE_URL": database.url, "BUDGET_LOG_LEVEL": "warning"])
        defer { server.process.terminate() }
        try await serve.waitUntilReady(server)
        try await body("http://127.0.0.1:\(port)", database)
        server.process.terminate()
        try await serve.waitForExit(server.process)
    }

    func bench(_ arguments: [String], url: String, database: DatabaseEndpoint) async throws -> Report {
        let run = try await runner.budget(["bench", "--json"] + arguments, database: database, environment: ["BUDGET_URL": url])
        #expect(run.status == 0, "\(run.errors)")
        return try JSONDecoder().decode(Report.self, from: Data(run.output.utf8))
    }

    func count(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query).decode(Int.self) { return value }
        return -1
    }

    @Test func closedLoopPairsAreTheLedgersRowsAndEveryAllocationIsCommitted() async throws {
        try await withServer { url, database in
            // No warm-up: every pair the callers start is measured, so the ledger must hold exactly as many.
            let calls = FileManager.default.temporaryDirectory.appendingPathComponent("bench-calls-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: calls) }
            let report = try await bench(["--clients", "3", "--duration", "1", "--warmup", "0", "--latencies", calls.path], url: url, database: database)
            #expect(report.completed > 0)
            #expect(report.errors.isEmpty)
            #expect(report.latency_ms["allocate"]?.count == report.completed)
            #expect(report.latency_ms["commit"]?.count == report.completed)
            #expect(report.latency_ms["pair"]?.count == report.completed)
            let pair = try #require(report.latency_ms["pair"])
            #expect(pair.p50 > 0 && pair.p50 <= pair.p99 && pair.p99 <= pair.max)

            // --latencies: every measured call, in order of start, inside the measured second.
            let lines = try String(contentsOf: calls, encoding: .utf8).split(separator: "\n")
            #expect(lines.first == "start_ms,latency_ms,call")
            let measured = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
            #expect(measured.count == 2 * report.completed)
            #expect(measured.filter { $0.last == "allocate" }.count == report.completed)
            #expect(measured.filter { $0.last == "commit" }.count == report.completed)
            let starts = measured.compactMap { Double($0[0]) }, latencies = measured.compactMap { Double($0[1]) }
            #expect(starts.count == measured.count && latencies.count == measured.count)
            #expect(starts == starts.sorted() && starts.allSatisfy { $0 >= 0 })
            #expect(measured.filter { $0.last == "allocate" }.allSatisfy { (Double($0[0]) ?? -1) < 1_000 })   // started in the measured second
            let slowest = max(report.latency_ms["allocate"]?.max ?? 0, report.latency_ms["commit"]?.max ?? 0)
            #expect(latencies.allSatisfy { $0 > 0 && $0 <= slowest + 0.001 })

            let component = report.component
            let (rows, committed, other) = try await withClient(database) { client in
                (try await count(client, "SELECT count(*)::int FROM usage_records WHERE component = \(component)"),
                 try await count(client, "SELECT count(*)::int FROM allocations WHERE component = \(component) AND status = 'committed'"),
                 try await count(client, "SELECT count(*)::int FROM allocations WHERE component = \(component) AND status <> 'committed'"))
            }
            #expect(rows == report.completed)
            #expect(committed == report.completed)
            #expect(other == 0)
        }
    }

    @Test func anOpenLoopNeverStartsMoreThanItsRateAndChecksWriteNothing() async throws {
        try await withServer { url, database in
            let paced = try await bench(["--clients", "2", "--duration", "1", "--warmup", "0", "--rate", "100"], url: url, database: database)
            #expect(paced.offered_per_second == 100)
            #expect(paced.completed > 0 && paced.completed <= 100, "\(paced.completed) pairs at 100/s for 1 s")
            #expect(paced.errors.isEmpty)

            let checks = try await bench(["--clients", "2", "--duration", "1", "--warmup", "0", "--check-only"], url: url, database: database)
            #expect(checks.completed > 0)
            #expect(checks.latency_ms["check"]?.count == checks.completed)
            let (pacedRows, checkRows, checkAllocations) = try await withClient(database) { client in
                (try await count(client, "SELECT count(*)::int FROM usage_records WHERE component = \(paced.component)"),
                 try await count(client, "SELECT count(*)::int FROM usage_records WHERE component = \(checks.component)"),
                 try await count(client, "SELECT count(*)::int FROM allocations WHERE component = \(checks.component)"))
            }
            #expect(pacedRows == paced.completed)
            #expect(checkRows == 0)
            #expect(checkAllocations == 0)
        }
    }

    @Test func withIdempotencyKeysEveryCallCarriesAKeyOfItsOwn() async throws {
        try await withServer { url, database in
            let report = try await bench(["--clients", "3", "--duration", "1", "--warmup", "0", "--idempotency-keys"], url: url, database: database)
            #expect(report.completed > 0)
            #expect(report.errors.isEmpty)
            let component = report.component
            let (rows, keys, answered) = try await withClient(database) { client in
                (try await count(client, "SELECT count(*)::int FROM usage_records WHERE component = \(component)"),
                 try await count(client, "SELECT count(*)::int FROM idempotency_keys WHERE key LIKE \(component + "-%")"),
                 try await count(client, "SELECT count(*)::int FROM idempotency_keys WHERE key LIKE \(component + "-%") AND response IS NOT NULL"))
            }
            #expect(rows == report.completed)
            #expect(keys == 2 * report.completed, "one key per allocate and per commit")
            #expect(answered == keys)
        }
    }
}
