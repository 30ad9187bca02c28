import BudgetStore
import BudgetTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("`budget serve` with BUDGET_API_KEY refuses callers without a key; the CLI and the bench send theirs", .serialized)
struct APIKeyCommandTests {
    let runner = ImportCommandTests()
    let serve = ServeProcessTests()
    static let key = "test-key-0123456789abcdef"

    @Test func theCLIAndTheBenchSendTheKeyAndACallerWithoutOneIsRefused() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let port = try serve.freePort()
        // Two keys, as while one replaces the other; the clients send the second.
        let server = try serve.start(port: port, settings: ["BUDGET_DATABASE_URL": database.url, "BUDGET_LOG_LEVEL": "warning",
                                                            "BUDGET_API_KEY": "old-key-0123456789abcdef, \(Self.key)"])
        defer { server.process.terminate() }
        try await serve.waitUntilReady(server)   // readiness needs no key
        let url = "http://127.0.0.1:\(port)"

        let refused = try await runner.budget(["budgets", "create", "--name", "no-key"], database: database,
                                              environment: ["BUDGET_URL": url, "BUDGET_API_KEY": ""])
        #expect(refused.status != 0)
        #expect(refused.errors.contains("an API key is required"), "\(refused.errors)")
        let created = try await runner.budget(["budgets", "create", "--name", "with-key"], database: database,
                                              environment: ["BUDGET_URL": url, "BUDGET_API_KEY": Self.key])
        #expect(created.status == 0, "\(created.errors)")

        let bench = try await runner.budget(["bench", "--json", "--clients", "2", "--duration", "1", "--warmup", "0"], database: database,
                                            environment: ["BUDGET_URL": url, "BUDGET_API_KEY": Self.key])
        #expect(bench.status == 0, "\(bench.errors)")
        let report = try JSONDecoder().decode(BenchCommandTests.Report.self, from: Data(bench.output.utf8))
        #expect(report.completed > 0)
        #expect(report.errors.isEmpty)

        let names = try await withClient(database) { client in
            var names: [String] = []
            for try await name in try await client.query("SELECT name FROM budgets ORDER BY name").decode(String.self) { names.append(name) }
            return names
        }
        #expect(names.contains("with-key") && !names.contains("no-key"))
        server.process.terminate()
        try await serve.waitForExit(server.process)
    }

    @Test func aShortKeyStopsServeWithTheSettingsName() async throws {
        let run = try await runner.budget(["serve"], database: try await TestDatabaseServer.shared.makeDatabase(migrated: false),
                                          environment: ["BUDGET_API_KEY": "short", "BUDGET_PORT": String(try serve.freePort())])
        #expect(run.status != 0)
        #expect(run.errors.contains("BUDGET_API_KEY"), "\(run.errors)")
    }
}
