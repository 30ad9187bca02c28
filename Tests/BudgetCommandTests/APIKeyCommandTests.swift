import BudgetStore
import BudgetTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("`budget serve` with BUDGET_API_KEY refuses callers without a key, with BUDGET_ADMIN_KEY changes to the rules without an administrator's; the CLI and the bench send theirs", .serialized)
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

    @Test func withAnAdministratorKeyTheCLIChangesTheRulesOnlyWithThatKey() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let port = try serve.freePort()
        let administrator = "admin-key-0123456789abcdef"
        let server = try serve.start(port: port, settings: ["BUDGET_DATABASE_URL": database.url, "BUDGET_LOG_LEVEL": "warning",
                                                            "BUDGET_API_KEY": Self.key, "BUDGET_ADMIN_KEY": administrator])
        defer { server.process.terminate() }
        try await serve.waitUntilReady(server)
        let url = "http://127.0.0.1:\(port)"

        let asCaller = ["BUDGET_URL": url, "BUDGET_API_KEY": Self.key, "BUDGET_ADMIN_KEY": ""]
        let refused = try await runner.budget(["budgets", "create", "--name", "by-caller"], database: database, environment: asCaller)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("needs an administrator's key (BUDGET_ADMIN_KEY)"), "\(refused.errors)")
        #expect(try await runner.budget(["budgets", "list"], database: database, environment: asCaller).status == 0)

        // The administrator's key alone serves for everything, the bench's set-up (a budget, a limit, a price) included.
        let asAdministrator = ["BUDGET_URL": url, "BUDGET_API_KEY": "", "BUDGET_ADMIN_KEY": administrator]
        let created = try await runner.budget(["budgets", "create", "--name", "by-administrator"], database: database, environment: asAdministrator)
        #expect(created.status == 0, "\(created.errors)")
        let bench = try await runner.budget(["bench", "--json", "--clients", "2", "--duration", "1", "--warmup", "0"], database: database,
                                            environment: asAdministrator)
        #expect(bench.status == 0, "\(bench.errors)")

        let names = try await withClient(database) { client in
            var names: [String] = []
            for try await name in try await client.query("SELECT name FROM budgets ORDER BY name").decode(String.self) { names.append(name) }
            return names
        }
        #expect(names.contains("by-administrator") && !names.contains("by-caller"))
        server.process.terminate()
        try await serve.waitForExit(server.process)

        let shared = try await runner.budget(["serve"], database: database, environment: [
            "BUDGET_API_KEY": Self.key, "BUDGET_ADMIN_KEY": Self.key, "BUDGET_PORT": String(try serve.freePort()),
        ])
        #expect(shared.status != 0)
        #expect(shared.errors.contains("BUDGET_ADMIN_KEY and BUDGET_API_KEY share a key"), "\(shared.errors)")
    }

    @Test func aShortKeyStopsServeWithTheSettingsName() async throws {
        let run = try await runner.budget(["serve"], database: try await TestDatabaseServer.shared.makeDatabase(migrated: false),
                                          environment: ["BUDGET_API_KEY": "short", "BUDGET_PORT": String(try serve.freePort())])
        #expect(run.status != 0)
        #expect(run.errors.contains("BUDGET_API_KEY"), "\(run.errors)")
    }
}
