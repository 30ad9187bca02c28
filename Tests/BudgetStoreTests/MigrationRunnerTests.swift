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

    /// What has shipped must not change: a deployed database refuses a migration whose text
    /// differs from the one it applied. A new migration gets its line here when it first ships.
    static let shipped: [Int: String] = [
        1: "0194d5455eac1c76667e306368815f98fcad207edd4f68fcb05339491ae6f32f",
        2: "5b8f2a9a12bdc900ee017fae8e998b6687730f1892715751eec146179054acd9",
        3: "94b7c7ae469184d62a5b59029c2615b43a709fd3ae03734937d210749f5ac637",
        4: "5450ad7bcebaabc007d0ad2196369dc65026c73acb939e3088d46d06416e6775",
        5: "b1289344f29ad2c10fd8bafa3e1a30ab358b71515b327f17513c17dbd072ae7d",
        6: "bc3b30d0737778a1b0b349d2ee789f806220704eb43ad183311a0e2f33cec9f4",
        7: "c48f0873992e2769f0bce8a833ebc52068db66cc480feb7082873072308a543c",
        8: "f3c250846ef9df28a2522e7ca4c62d6945d5919783111117c9bbad771c10da7a",
        9: "8be431bf2b055fbd16255bcefe839920094f131cf2db51bfecbe41aeb3aae221",
        10: "e06547fc40fef03c7a3f08a745270a0702e3fd6b519fc7e26f9952590e95928e",
        11: "7bb7753ce17c7edc90d44a6b4d36d06e38a399442376f8a3bf1064f2157c0445",
        12: "4c5560d1dffee2b6a2f57d093d3d9be4361fd60d3950b7e781cf381ab28e9288",
        13: "265448df5999c9fe6b2e7f62ffc43a71df4ea83e3fed1d201e96f12d1a25c422",
        14: "4a9e567689c0a18f7299306bf69112c5bd95950b51be697ea489b9c31c7c79fe",
        15: "7f3aea21adabc78aaa200701e090cb9a27867c265f299b8e892f2b13962f8755",
        16: "0877b4a0895ac048e30d5b2588256986b1e0c00d39141fc8572ff0ed2984e5cd",
        17: "6a200b8cb56b6b585365606cb09471292eea3166ddda6ff2439aa1487877a861",
        18: "cc97b7bd8531e462560f50df6d1b9d193c13ef3b0b86b0e3c6e1078ef62e76cd",
        19: "8cc97495a725f118e29ddfe2a572372cf7c2f7498b5dacbbf5c89a36c1b1ae5b",
        20: "15df7c29be8b7b9a549014e62b62ae97f85a13451aae7f77acd88da593411133",
        21: "9db43b75848ede5fcbf6ab970cca9c478c3e8544795d3a6cf94b7ed23ce393ad",
        22: "4feb1d7549a6e85bb546668096f24024ecb68a37da6f68528c3fffb320bbc58c",
        23: "a029415c0b5c3b4998c55a028986985ea73565138fd3e44dcf995e92ace2a510",
    ]

    @Test func shippedMigrationsAreUnchanged() async throws {
        let migrations = try TestDatabaseServer.migrations()
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let checksums = try await withClient(endpoint) { client in
            var checksums: [Int: String] = [:]
            for migration in migrations {
                let rows = try await client.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')", logger: logger)
                for try await checksum in rows.decode(String.self) { checksums[migration.version] = checksum }
            }
            return checksums
        }
        for (version, checksum) in Self.shipped.sorted(by: { $0.key < $1.key }) {
            #expect(checksums[version] == checksum, "migration \(version) was edited after it shipped: add a new migration instead")
        }
    }

    /// 0018 shipped with two texts; a database that applied the second one still starts, and any
    /// other text is still refused.
    @Test func theSecondShippedTextOf0018IsAcceptedAndNoOther() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let migrations = try TestDatabaseServer.migrations()
        _ = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
        try await withClient(endpoint) { client in
            _ = try await client.query("UPDATE schema_migrations SET checksum = '1d81164d7181ca9ac9c241fe8d52ebc5885932a02bcc7605dd12ba638b975919' WHERE version = 18", logger: logger)
        }
        let again = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
        #expect(again.applied.isEmpty)

        try await withClient(endpoint) { client in
            _ = try await client.query("UPDATE schema_migrations SET checksum = 'something else' WHERE version = 18", logger: logger)
        }
        let error = await #expect(throws: MigrationError.self) {
            try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
        }
        #expect(error?.code == .checksumMismatch)
    }
}
