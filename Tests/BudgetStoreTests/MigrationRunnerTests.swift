import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@Suite("The schema runner applies numbered migrations once, in order, safely")
struct MigrationRunnerTests {
    let logger = Logger(label: "MigrationRunnerTests")

    private func appliedVersions(_ endpoint: DatabaseEndpoint) async throws -> [Int] {
        try await withClient(endpoint) { client in
            var versions: [Int] = []
            for try await version in try await client.query("SELECT version FROM schema_migrations ORDER BY version").decode(Int.self) {
                versions.append(version)
            }
            return versions
        }
    }

    @Test func appliesEveryMigrationOnceAndRerunIsANoOp() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let migrations = try TestDatabaseServer.migrations()
        #expect(!migrations.isEmpty)
        let runner = MigrationRunner(migrations: migrations, logger: logger)

        let first = try await runner.run(on: endpoint)
        #expect(first.applied == migrations.map(\.version))
        #expect(first.alreadyApplied.isEmpty)

        let second = try await runner.run(on: endpoint)
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied == migrations.map(\.version))
        #expect(try await appliedVersions(endpoint) == migrations.map(\.version))
    }

    @Test func changedFileOfAnAppliedMigrationStopsStartUp() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let original = [Migration(version: 1, name: "first", sql: "CREATE TABLE a (x int);")]
        _ = try await MigrationRunner(migrations: original, logger: logger).run(on: endpoint)

        let edited = [
            Migration(version: 1, name: "first", sql: "CREATE TABLE a (x bigint);"),
            Migration(version: 2, name: "second", sql: "CREATE TABLE b (y int);"),
        ]
        let error = await #expect(throws: MigrationError.self) {
            try await MigrationRunner(migrations: edited, logger: logger).run(on: endpoint)
        }
        #expect(error?.code == .checksumMismatch)
        #expect(error?.message.contains("migration 1 (first) was changed") == true)
        // Nothing of the refused run was applied.
        #expect(try await appliedVersions(endpoint) == [1])
    }

    @Test func failingMigrationIsRolledBackWhole() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let migrations = [
            Migration(version: 1, name: "good", sql: "CREATE TABLE ok (x int);"),
            Migration(version: 2, name: "bad", sql: "CREATE TABLE half (x int); SELECT no_such_column FROM ok;"),
        ]
        let error = await #expect(throws: MigrationError.self) {
            try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
        }
        #expect(error?.code == .failed)
        #expect(try await appliedVersions(endpoint) == [1])
        let halfExists = try await withClient(endpoint) { client in
            var found = false
            for try await _ in try await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'half'") { found = true }
            return found
        }
        #expect(!halfExists)
    }

    @Test func concurrentRunnersApplyEachMigrationExactlyOnce() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        // A migration that fails if it runs twice (CREATE TABLE without IF NOT EXISTS) and
        // takes a moment, so the runners overlap.
        let migrations = [
            Migration(version: 1, name: "slow", sql: "SELECT pg_sleep(0.3); CREATE TABLE once (x int);"),
            Migration(version: 2, name: "next", sql: "CREATE TABLE twice_would_fail (x int);"),
        ]
        let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
            for _ in 0..<4 {
                group.addTask { try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.flatMap(\.applied).sorted() == [1, 2])
        #expect(try await appliedVersions(endpoint) == [1, 2])
    }

    @Test func databaseAheadOfThisBuildIsRefused() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let newer = [Migration(version: 1, name: "a", sql: "SELECT 1;"), Migration(version: 2, name: "b", sql: "SELECT 2;")]
        _ = try await MigrationRunner(migrations: newer, logger: logger).run(on: endpoint)
        let error = await #expect(throws: MigrationError.self) {
            try await MigrationRunner(migrations: [newer[0]], logger: logger).run(on: endpoint)
        }
        #expect(error?.code == .unknownApplied)
    }

    @Test func migrationFilesAreNumberedAndLoadInOrder() throws {
        let migrations = try TestDatabaseServer.migrations()
        // 1, 2, 3, … with no gap and no repeat.
        #expect(migrations.map(\.version) == Array(1...migrations.count))
        #expect(migrations.first?.name == "budgets")
    }
}
