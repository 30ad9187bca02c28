@testable import BudgetStore
import BudgetTestSupport
import Foundation
import PostgresNIO
import Testing

/// `budget import rhetor` as a person runs it: the built binary, its output and its exit status.
@Suite("`budget import rhetor` prints its reconciliation, is idempotent, and refuses bad files with a non-zero exit")
struct ImportCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rhetor/rhetor_budget_export.db").path

    /// Runs the binary and waits for it without blocking a thread of Swift's cooperative pool (the
    /// other suites' servers run there); its output goes to files read afterwards. It is spawned
    /// and waited for as the product runs pg_ctl (ProcessRunner: posix_spawn, waitpid on a thread
    /// of its own), not with Foundation's Process: one test run hung waiting for a `budget bench`
    /// that had already exited, and Process learns of an exit through a descriptor that other
    /// children started at the same moment can inherit (the cause was not pinned down).
    func budget(_ arguments: [String], database: DatabaseEndpoint, environment extra: [String: String] = [:]) async throws
        -> (status: Int32, output: String, errors: String) {
        let executable = try #require(ServeProcessTests.executable, "the budget executable was not built")
        var environment = ProcessInfo.processInfo.environment
        environment["BUDGET_DATABASE_URL"] = database.url
        environment["BUDGET_SQL_DIR"] = TestDatabaseServer.sqlDirectory.path
        environment["BUDGET_LOG_LEVEL"] = "warning"
        environment.merge(extra) { _, given in given }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("budget-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        let status = try await ProcessRunner.spawnAndWait([executable] + arguments, outputPath: out.path, errorPath: err.path, environment: environment)
        return (status, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    @Test func importsPrintsTheReconciliationAndSaysSoWhenThereIsNothingNew() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let dry = try await budget(["import", "rhetor", Self.fixture, "--dry-run"], database: database)
        #expect(dry.status == 0, "\(dry.errors)")
        #expect(dry.output.contains("Dry run: would import 5022 new usage row(s)"))

        let first = try await budget(["import", "rhetor", Self.fixture], database: database)
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.contains("all rows"))
        #expect(first.output.contains("5022"))
        #expect(first.output.contains("3014272219"))
        #expect(first.output.contains("Imported 5022 new usage row(s)"))
        #expect(!first.output.contains("DIFFERS"))
        #expect(!first.errors.contains("["), "no progress bar when standard error is not a terminal")

        let second = try await budget(["import", "rhetor", Self.fixture], database: database)
        #expect(second.status == 0)
        #expect(second.output.contains("Nothing to do: every row and setting of this file was imported before (5022 rows)"))
    }

    @Test func rowsRhetorCouldNotPriceArePricedWhenBudgetKnowsTheirModel() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(database) { client in
            try await client.query("""
                INSERT INTO prices (provider, model, provider_key, model_key, input_per_token, output_per_token)
                VALUES ('anthropic', 'claude-3-5-sonnet-20241022', 'anthropic', 'claude-3-5-sonnet-20241022', 0.000003, 0.000015)
                """)
        }
        let run = try await budget(["import", "rhetor", Self.fixture], database: database)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("300 row(s) came unpriced"), "\(run.output)")
        #expect(run.output.contains("anthropic/claude-3-5-sonnet-20241022: "), "\(run.output)")
        #expect(!run.output.contains("DIFFERS"), "the reconciliation compares what Rhetor charged, before Budget's pricing")
        let statuses = try await withClient(database) { client in
            var statuses: [String: Int] = [:]
            for try await (status, n) in try await client.query("""
                SELECT pricing_status, count(*)::int FROM usage_records WHERE model = 'claude-3-5-sonnet-20241022' GROUP BY 1
                """).decode((String, Int).self) { statuses[status] = n }
            return statuses
        }
        #expect(statuses["unpriced"] == nil, "\(statuses)")
        #expect((statuses["priced"] ?? 0) > 0, "\(statuses)")
        let again = try await budget(["import", "rhetor", Self.fixture], database: database)
        #expect(again.output.contains("Nothing to do"), "the priced rows still count as imported")
    }

    @Test func aFileThatIsNotRhetorsFailsWithTheReason() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let bogus = FileManager.default.temporaryDirectory.appendingPathComponent("not-rhetor-\(UUID().uuidString).db").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: bogus))
        let result = try await budget(["import", "rhetor", bogus], database: database)
        #expect(result.status != 0)
        #expect(result.errors.contains("is not a readable SQLite database"), "\(result.errors)")
    }
}
