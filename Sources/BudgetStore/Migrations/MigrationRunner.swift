// Applies pending migrations in order, each in its own transaction, under an advisory lock
// so that Budget instances starting together do not race.
import Foundation
import Logging
import PostgresNIO

public struct MigrationReport: Sendable, Equatable {
    /// Versions applied by this run.
    public var applied: [Int]
    /// Versions that were already in place.
    public var alreadyApplied: [Int]
}

public struct MigrationRunner: Sendable {
    /// Key of the session-level advisory lock held while migrating.
    static let lockKey: Int64 = 0x6275_6467_6574  // "budget"

    /// Other texts of a migration that were shipped and may already be applied somewhere. 0018
    /// shipped twice: its file is the first text again, and the second (its shares query without
    /// the join to `allocations`) is accepted too; 0019 replaces the function either way, so both
    /// databases end up the same. Tests/BudgetStoreTests pins every migration's checksum so that
    /// no further edit goes unnoticed.
    static let landedVariants: [Int: Set<String>] = [
        18: ["1d81164d7181ca9ac9c241fe8d52ebc5885932a02bcc7605dd12ba638b975919"],
    ]

    public let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    public func run(on endpoint: DatabaseEndpoint) async throws -> MigrationReport {
        let connection = try await PostgresConnection.connect(to: endpoint, logger: logger)
        do {
            let report = try await run(on: connection)
            try await connection.close()
            return report
        } catch {
            try? await connection.close()
            throw error
        }
    }

    public func run(on connection: PostgresConnection) async throws -> MigrationReport {
        try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
        do {
            let report = try await applyPending(on: connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            return report
        } catch {
            // A migration's error comes wrapped, but its own undo has closed an ended session already.
            await connection.undo("SELECT pg_advisory_unlock(\(Self.lockKey))", after: error, logger: logger)
            throw error
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> MigrationReport {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            )
            """, logger: logger)
        var applied: [Int: (name: String, checksum: String)] = [:]
        for try await (version, name, checksum) in try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations", logger: logger
        ).decode((Int, String, String).self) {
            applied[version] = (name, checksum)
        }

        // Verify everything before changing anything.
        var checksums: [Int: String] = [:]
        for migration in migrations {
            let checksum = try await Self.checksum(of: migration.sql, on: connection, logger: logger)
            checksums[migration.version] = checksum
            if let existing = applied[migration.version], existing.checksum != checksum,
               Self.landedVariants[migration.version]?.contains(existing.checksum) != true {
                throw MigrationError(.checksumMismatch, """
                    migration \(migration.version) (\(migration.name)) was changed after it was applied: \
                    the database recorded checksum \(existing.checksum), the file now has \(checksum). \
                    Applied migrations must not be edited; add a new migration instead.
                    """)
            }
        }
        let known = Set(migrations.map(\.version))
        if let unknown = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError(.unknownApplied, "the database has migration \(unknown) (\(applied[unknown]!.name)), which this version of Budget does not know; use a newer Budget")
        }

        var report = MigrationReport(applied: [], alreadyApplied: [])
        for migration in migrations {
            if applied[migration.version] != nil {
                report.alreadyApplied.append(migration.version)
                continue
            }
            let started = ContinuousClock.now
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in SQLScript.statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let elapsed = ContinuousClock.now - started
                let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum, duration_ms)
                    VALUES (\(migration.version), \(migration.name), \(checksums[migration.version]!), \(milliseconds))
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                await connection.undo("ROLLBACK", after: error, logger: logger)
                throw MigrationError(.failed, "migration \(migration.version) (\(migration.name)) failed and was rolled back: \(String(reflecting: error))")
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            report.applied.append(migration.version)
        }
        return report
    }

    /// SHA-256 of the file's text, computed by the server so no crypto library is needed.
    static func checksum(of sql: String, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let rows = try await connection.query("SELECT encode(sha256(convert_to(\(sql), 'UTF8')), 'hex')", logger: logger)
        for try await checksum in rows.decode(String.self) { return checksum }
        throw MigrationError(.failed, "the server returned no checksum")
    }
}
