import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// Each test here runs a cluster of its own in a temporary data directory.
@Suite("The private PostgreSQL starts itself, keeps its data, and is shared safely", .serialized)
struct PrivateClusterTests {
    let logger = Logger(label: "PrivateClusterTests")

    private func temporaryDataDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("budget-cluster-test-\(UUID().uuidString.prefix(8))").path
    }

    private func scalar(_ sql: PostgresQuery, _ endpoint: DatabaseEndpoint) async throws -> String? {
        try await withClient(endpoint) { client in
            for try await value in try await client.query(sql).decode(String.self) { return value }
            return nil
        }
    }

    private func serverRuns(_ layout: PrivateCluster.Layout) -> Bool {
        guard let pidText = try? String(contentsOfFile: layout.pgdata + "/postmaster.pid", encoding: .utf8),
              let pid = pidText.split(separator: "\n").first.flatMap({ Int32($0) }) else { return false }
        return kill(pid, 0) == 0
    }

    @Test func startsCreatesDatabaseAndKeepsDataAcrossRestarts() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = PrivateCluster(dataDirectory: directory, logger: logger)

        let first = try await cluster.acquire()
        #expect(first.endpoint.database == "budget")
        #expect(serverRuns(first.layout))
        // A new cluster has its WAL segments made ahead, as one that has run through checkpoints
        // would: no transaction under load waits while a segment is written full of zeros.
        let ready = try await scalar("""
            SELECT count(*)::text FROM pg_ls_waldir()
            WHERE name ~ '^[0-9A-F]{24}$' AND name > pg_walfile_name(pg_current_wal_lsn())
            """, first.endpoint)
        let wanted = try await scalar("""
            SELECT (pg_size_bytes(current_setting('min_wal_size')) / pg_size_bytes(current_setting('wal_segment_size')))::text
            """, first.endpoint)
        #expect(wanted == "16", "min_wal_size 256MB in 16 MB segments")
        #expect((ready.flatMap { Int($0) } ?? 0) >= 15, "segments ready ahead: \(ready ?? "none")")
        _ = try await scalar("CREATE TABLE kept (note text)", first.endpoint)
        _ = try await scalar("INSERT INTO kept VALUES ('still here')", first.endpoint)
        try await first.release()
        #expect(!serverRuns(first.layout), "the last user stops the server")

        let second = try await cluster.acquire()
        #expect(try await scalar("SELECT note FROM kept", second.endpoint) == "still here")
        try await second.release()
    }

    @Test func secondUserSharesTheServerAndTheLastOneStopsIt() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serve = PrivateCluster(dataDirectory: directory, logger: logger)
        let command = PrivateCluster(dataDirectory: directory, logger: logger)

        let serveLease = try await serve.acquire()
        let commandLease = try await command.acquire()
        try await commandLease.release()
        #expect(serverRuns(serveLease.layout), "a command finishing must not stop the server under `serve`")
        #expect(try await scalar("SELECT 'up'", serveLease.endpoint) == "up")
        try await serveLease.release()
        #expect(!serverRuns(serveLease.layout))
    }

    @Test func recoversFromAKilledServerAndItsStalePidFile() async throws {
        let directory = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = PrivateCluster(dataDirectory: directory, logger: logger)
        let lease = try await cluster.acquire()
        _ = try await scalar("CREATE TABLE survivor (x int)", lease.endpoint)

        // SIGKILL the postmaster: postmaster.pid stays behind, naming a dead process.
        let pidText = try String(contentsOfFile: lease.layout.pgdata + "/postmaster.pid", encoding: .utf8)
        let pid = try #require(pidText.split(separator: "\n").first.flatMap { Int32($0) })
        #expect(kill(pid, SIGKILL) == 0)
        for _ in 0..<100 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(FileManager.default.fileExists(atPath: lease.layout.pgdata + "/postmaster.pid"))

        let again = try await PrivateCluster(dataDirectory: directory, logger: logger).acquire()
        #expect(try await scalar("SELECT count(*)::text FROM survivor", again.endpoint) == "0")
        try await again.release()
        try? await lease.release()
    }

    @Test func externalURLIsUsedAsIsAndNothingIsStarted() async throws {
        let testDatabase = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let unusedDataDirectory = temporaryDataDirectory()
        let access = try await DatabaseAccess.acquire(
            databaseURL: testDatabase.url, dataDirectory: unusedDataDirectory, logger: logger
        )
        #expect(access.lease == nil)
        #expect(access.endpoint == testDatabase)
        #expect(!FileManager.default.fileExists(atPath: unusedDataDirectory), "no private cluster is made")
        #expect(try await scalar("SELECT current_database()::text", access.endpoint) == testDatabase.database)
        try await access.release()
    }
}

@Suite("BUDGET_DATABASE_URL is parsed into an endpoint and printed back")
struct DatabaseEndpointTests {
    @Test func tcpURLWithCredentialsAndTLS() throws {
        let endpoint = try DatabaseEndpoint(url: "postgres://app:s%40cret@db.internal:6543/ledger?sslmode=require")
        #expect(endpoint.address == .tcp(host: "db.internal", port: 6543))
        #expect(endpoint.username == "app")
        #expect(endpoint.password == "s@cret")
        #expect(endpoint.database == "ledger")
        #expect(endpoint.tls == .require)
        #expect(try DatabaseEndpoint(url: endpoint.url) == endpoint)
    }

    @Test func unixSocketURL() throws {
        let endpoint = try DatabaseEndpoint(url: "postgresql://budget@/budget?host=/var/run/budget&port=5433")
        #expect(endpoint.address == .unixSocket(directory: "/var/run/budget", port: 5433))
        #expect(endpoint.tls == .disable)
        #expect(try DatabaseEndpoint(url: endpoint.url) == endpoint)
    }

    @Test func defaultsAndRejections() throws {
        let endpoint = try DatabaseEndpoint(url: "postgres://localhost/budget")
        #expect(endpoint.address == .tcp(host: "localhost", port: 5432))
        #expect(endpoint.tls == .prefer)
        #expect(throws: DatabaseEndpointError.self) { try DatabaseEndpoint(url: "mysql://localhost/budget") }
        #expect(throws: DatabaseEndpointError.self) { try DatabaseEndpoint(url: "postgres://localhost/budget?sslmode=sometimes") }
    }
}
