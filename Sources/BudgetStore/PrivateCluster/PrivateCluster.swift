// The embedded default: a PostgreSQL cluster that Budget initialises, starts and stops itself
// under its data directory when no BUDGET_DATABASE_URL is configured.
//
// Several Budget processes (a `budget serve` and, say, a `budget migrate`) may use one cluster
// at once. Each holds a shared lock on `users.lock` while it uses the cluster; starting and
// stopping happen under an exclusive `cluster.lock`, and the last process to leave stops the
// server. Locks are flock(2) locks, so a killed process never leaves one behind.
import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

public struct PrivateCluster: Sendable {
    /// The name of the database Budget uses inside its cluster.
    public static let databaseName = "budget"
    /// The superuser initdb creates; local connections are trusted (socket directory is private).
    public static let superuser = "budget"
    /// The socket file is `.s.PGSQL.<port>` in a private directory, so the port never clashes.
    static let socketPort = 5432

    public struct Options: Sendable {
        /// Extra `postgres -c name=value` settings. Autovacuum looks every 10 s (not every minute):
        /// the engine's tables collect dead rows fast under load (0017_limit_window_storage.sql).
        /// 256 MB of WAL segments are kept ready (`min_wal_size`, 80 MB by default): about 40 s of
        /// allocate + commit at full speed (see `prepareWALSegments`).
        public var serverSettings: [String: String] = ["max_connections": "200", "autovacuum_naptime": "10s", "min_wal_size": "256MB"]
        /// Where the PostgreSQL programs are; found automatically when nil.
        public var binariesOverride: String?
        public init() {}
    }

    /// Where the cluster's files are. When Budget runs as root and the data directory is not
    /// reachable by the `postgres` user (a checkout under /root, say), the cluster lives under
    /// /var/lib/budget/clusters/<hash of the data directory> instead.
    public struct Layout: Sendable, Equatable {
        public var dataDirectory: String
        public var clusterRoot: String
        public var pgdata: String { clusterRoot + "/pgdata" }
        public var socketDirectory: String
        public var logFile: String { clusterRoot + "/log/postgresql.log" }
        var lockFile: String { dataDirectory + "/cluster.lock" }
        var usersLockFile: String { dataDirectory + "/users.lock" }
    }

    public let dataDirectory: String
    public let options: Options
    let logger: Logger

    public init(dataDirectory: String, options: Options = Options(), logger: Logger) {
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.options = options
        self.logger = logger
    }

    /// Makes sure the cluster exists and runs, creates the `budget` database, and returns a
    /// lease. Keep the lease while using the database and release it when done.
    public func acquire() async throws -> ClusterLease {
        let binaries = try await PostgresBinaries.locate(override: options.binariesOverride)
        let serverUser = try Self.serverUser()
        let runner = ProcessRunner(runAsUser: serverUser)
        try createDirectory(dataDirectory, owner: nil)
        let layout = try await makeLayout(serverUser: serverUser, runner: runner)

        let clusterLock = try FileLock(path: layout.lockFile)
        let usersLock = try FileLock(path: layout.usersLockFile)
        try await clusterLock.lock(.exclusive)
        defer { clusterLock.unlock() }
        try await usersLock.lock(.shared)
        do {
            let initialisedNow = try await initialiseIfNeeded(layout: layout, binaries: binaries, serverUser: serverUser, runner: runner)
            let startedNow = try await startIfNeeded(layout: layout, binaries: binaries, runner: runner)
            let endpoint = DatabaseEndpoint(
                address: .unixSocket(directory: layout.socketDirectory, port: Self.socketPort),
                username: Self.superuser,
                database: Self.databaseName
            )
            if initialisedNow {
                try await prepareWALSegments(endpoint: endpoint)
            }
            try await createDatabaseIfNeeded(endpoint: endpoint)
            if startedNow {
                logger.info("private PostgreSQL started", metadata: ["pgdata": "\(layout.pgdata)", "socket": "\(layout.socketDirectory)"])
            } else {
                logger.info("private PostgreSQL already running; sharing it", metadata: ["pgdata": "\(layout.pgdata)"])
            }
            return ClusterLease(cluster: self, layout: layout, binaries: binaries, runner: runner, endpoint: endpoint, usersLock: usersLock)
        } catch {
            usersLock.unlock()
            throw error
        }
    }

    /// Stops the server of this data directory if it runs, whoever started it.
    public func stop() async throws {
        let binaries = try await PostgresBinaries.locate(override: options.binariesOverride)
        let serverUser = try Self.serverUser()
        let runner = ProcessRunner(runAsUser: serverUser)
        let layout = try await makeLayout(serverUser: serverUser, runner: runner)
        try await stopServer(layout: layout, binaries: binaries, runner: runner)
    }

    /// Stops the server (and deletes the data directory when asked) once the process `pid`
    /// has exited. A test run has no teardown hook, so its throwaway cluster watches the runner.
    public func stopWhenProcessExits(_ pid: Int32, deletingDataDirectory: Bool) async throws {
        let binaries = try await PostgresBinaries.locate(override: options.binariesOverride)
        let serverUser = try Self.serverUser()
        let runner = ProcessRunner(runAsUser: serverUser)
        let layout = try await makeLayout(serverUser: serverUser, runner: runner)
        let asServer = try serverUser.map { "\(try ProcessRunner.locate("runuser")) -u \($0) -- " } ?? ""
        var script = """
            while kill -0 \(pid) 2>/dev/null; do sleep 0.5; done
            \(asServer)'\(binaries.pgCtl)' -D '\(layout.pgdata)' -m immediate -w stop
            """
        if deletingDataDirectory {
            script += "\nrm -rf '\(layout.clusterRoot)' '\(dataDirectory)'"
        }
        try ProcessRunner.launchDetached([try ProcessRunner.locate("setsid"), "sh", "-c", script])
    }

    // MARK: - Steps

    /// Root must hand the server to the `postgres` user; anyone else runs it as themselves.
    static func serverUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        guard getpwnam("postgres") != nil else {
            throw PrivateClusterError(.serverUserMissing, """
                Budget runs as root, and PostgreSQL refuses to run as root, but there is no `postgres` user \
                to run it as. Install PostgreSQL from Debian (`apt-get install -y postgresql`), which creates \
                that user, or run Budget as a normal user.
                """)
        }
        return "postgres"
    }

    func makeLayout(serverUser: String?, runner: ProcessRunner) async throws -> Layout {
        var clusterRoot = dataDirectory + "/postgres"
        if let serverUser {
            let test = try ProcessRunner.locate("test")
            let reachable = try await runner.run(test, ["-x", dataDirectory]).status == 0
            if !reachable {
                clusterRoot = "/var/lib/budget/clusters/" + Self.shortHash(dataDirectory)
                logger.notice(
                    "data directory is not reachable by the \(serverUser) user; the cluster lives elsewhere",
                    metadata: ["data_dir": "\(dataDirectory)", "cluster": "\(clusterRoot)"]
                )
                try createDirectory("/var/lib/budget/clusters", owner: nil)
                try "cluster directory: \(clusterRoot)\n".write(toFile: dataDirectory + "/CLUSTER_LOCATION", atomically: true, encoding: .utf8)
            }
        }
        var socketDirectory = clusterRoot + "/run"
        // sun_path holds 108 bytes; keep room for "/.s.PGSQL.5432".
        if socketDirectory.utf8.count > 90 {
            socketDirectory = "/tmp/budget-pg-" + Self.shortHash(clusterRoot)
        }
        return Layout(dataDirectory: dataDirectory, clusterRoot: clusterRoot, socketDirectory: socketDirectory)
    }

    /// Returns true when this call made the cluster.
    private func initialiseIfNeeded(layout: Layout, binaries: PostgresBinaries, serverUser: String?, runner: ProcessRunner) async throws -> Bool {
        try createDirectory(layout.clusterRoot, owner: serverUser, mode: 0o700)
        try createDirectory(layout.clusterRoot + "/log", owner: serverUser, mode: 0o700)
        try createDirectory(layout.socketDirectory, owner: serverUser, mode: 0o700)
        guard !FileManager.default.fileExists(atPath: layout.pgdata + "/PG_VERSION") else { return false }
        logger.info("initialising private PostgreSQL cluster", metadata: ["pgdata": "\(layout.pgdata)"])
        // A half-made cluster from an interrupted initdb would stop initdb; start over.
        if FileManager.default.fileExists(atPath: layout.pgdata) {
            try FileManager.default.removeItem(atPath: layout.pgdata)
        }
        let result = try await runner.run(binaries.initdb, [
            "-D", layout.pgdata, "-U", Self.superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions",
        ])
        guard result.status == 0 else {
            throw PrivateClusterError(.initdbFailed, "initdb failed (exit \(result.status)):\n\(result.output)")
        }
        return true
    }

    /// Gives a new cluster the WAL segments that one which has been through a few checkpoints
    /// keeps ready (`min_wal_size` of them).
    ///
    /// Why: a new cluster has one segment. Each time a 16 MB segment fills, the backend that
    /// needs the next one creates it, writing and flushing 16 MB of zeros, while its transaction
    /// holds what it locked: under load that is the engine's batch holding a hot limit window,
    /// and every caller waits (a segment fills every 2-3 s at full speed; here a switch that had
    /// to create the next segment took 24-27 ms, one that found it ready 11-12 ms).
    /// A checkpoint renames finished segments into future ones instead, up to `min_wal_size`.
    /// So: switch to a new segment as many times as that needs, then checkpoint. About half a
    /// second, once, when the cluster is made.
    private func prepareWALSegments(endpoint: DatabaseEndpoint) async throws {
        let connection = try await PostgresConnection.connect(to: endpoint.with(database: "postgres"), logger: logger)
        do {
            var segments = 0
            let rows = try await connection.query("""
                SELECT (pg_size_bytes(current_setting('min_wal_size')) / pg_size_bytes(current_setting('wal_segment_size')))::integer
                """, logger: logger)
            for try await count in rows.decode(Int.self) { segments = count }
            for _ in 0..<segments {
                // A switch needs a record in the current segment, or it does nothing.
                try await connection.query("SELECT pg_logical_emit_message(false, 'budget', 'wal segment preparation'), pg_switch_wal()",
                                           logger: logger)
            }
            try await connection.query("CHECKPOINT", logger: logger)
            try await connection.close()
            logger.info("prepared WAL segments", metadata: ["segments": "\(segments)"])
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Returns true when this call started the server.
    private func startIfNeeded(layout: Layout, binaries: PostgresBinaries, runner: ProcessRunner) async throws -> Bool {
        let status = try await runner.run(binaries.pgCtl, ["-D", layout.pgdata, "status"])
        if status.status == 0 {
            return false
        }
        // pg_ctl status says "no server running": a postmaster.pid left by a killed server is stale.
        // PostgreSQL itself checks the PID inside; removing it only when nothing runs is safe.
        let pidFile = layout.pgdata + "/postmaster.pid"
        if FileManager.default.fileExists(atPath: pidFile) {
            logger.notice("removing stale postmaster.pid of a server that is not running", metadata: ["file": "\(pidFile)"])
            do {
                try FileManager.default.removeItem(atPath: pidFile)
            } catch {
                // pg_ctl may still cope (it checks the PID itself); say why if it does not.
                logger.warning("could not remove stale postmaster.pid", metadata: ["error": "\(error)"])
            }
        }
        var settings = options.serverSettings
        settings["listen_addresses"] = "''"
        settings["unix_socket_permissions"] = "0700"
        let serverOptions = (["-p \(Self.socketPort)", "-k \(layout.socketDirectory)"]
            + settings.sorted(by: { $0.key < $1.key }).map { "-c \($0.key)=\($0.value)" }).joined(separator: " ")
        // setsid: the server must not share Budget's process group, or a Ctrl-C in the terminal
        // would reach it directly instead of through Budget's orderly shutdown.
        let setsid = try ProcessRunner.locate("setsid")
        let result = try await ProcessRunner(runAsUser: runner.runAsUser).run(setsid, [
            "-w", binaries.pgCtl, "-D", layout.pgdata, "-l", layout.logFile, "-o", serverOptions, "-w", "-t", "60", "start",
        ])
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: layout.logFile, encoding: .utf8))?.split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
            throw PrivateClusterError(.startFailed, "PostgreSQL did not start (exit \(result.status)):\n\(result.output)\n\(log)")
        }
        return true
    }

    func stopServer(layout: Layout, binaries: PostgresBinaries, runner: ProcessRunner) async throws {
        let status = try await runner.run(binaries.pgCtl, ["-D", layout.pgdata, "status"])
        guard status.status == 0 else { return }
        let result = try await runner.run(binaries.pgCtl, ["-D", layout.pgdata, "-m", "fast", "-w", "-t", "60", "stop"])
        guard result.status == 0 else {
            throw PrivateClusterError(.stopFailed, "pg_ctl stop failed (exit \(result.status)): \(result.output)")
        }
        logger.info("private PostgreSQL stopped", metadata: ["pgdata": "\(layout.pgdata)"])
    }

    private func createDatabaseIfNeeded(endpoint: DatabaseEndpoint) async throws {
        let connection = try await PostgresConnection.connect(to: endpoint.with(database: "postgres"), logger: logger)
        do {
            let rows = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            if !exists {
                // Identifiers cannot be bound as parameters; this one is a constant of ours.
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.databaseName)"), logger: logger)
                logger.info("created database", metadata: ["database": "\(Self.databaseName)"])
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    // MARK: - Files

    private func createDirectory(_ path: String, owner: String?, mode: Int? = nil) throws {
        do {
            var attributes: [FileAttributeKey: Any] = [:]
            if let mode { attributes[.posixPermissions] = mode }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: attributes.isEmpty ? nil : attributes)
            if let owner, let entry = getpwnam(owner) {
                guard chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
                    throw PrivateClusterError(.filesystem, "cannot hand \(path) to user \(owner): \(String(cString: strerror(errno)))")
                }
            }
            if let mode { chmod(path, mode_t(mode)) }
        } catch let error as PrivateClusterError {
            throw error
        } catch {
            throw PrivateClusterError(.filesystem, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// A short stable name derived from a path (FNV-1a, hex).
    static func shortHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// A process's use of the private cluster. Releasing it stops the server when no other Budget
/// process is using it any more.
public final class ClusterLease: Sendable {
    public let endpoint: DatabaseEndpoint
    public let layout: PrivateCluster.Layout
    private let cluster: PrivateCluster
    private let binaries: PostgresBinaries
    private let runner: ProcessRunner
    private let usersLock: FileLock

    init(cluster: PrivateCluster, layout: PrivateCluster.Layout, binaries: PostgresBinaries, runner: ProcessRunner, endpoint: DatabaseEndpoint, usersLock: FileLock) {
        self.cluster = cluster
        self.layout = layout
        self.binaries = binaries
        self.runner = runner
        self.endpoint = endpoint
        self.usersLock = usersLock
    }

    /// Gives up this process's use; the last user stops the server.
    public func release() async throws {
        let clusterLock = try FileLock(path: layout.lockFile)
        try await clusterLock.lock(.exclusive)
        defer { clusterLock.unlock() }
        usersLock.unlock()
        // Another process still holding its shared lock keeps the server running.
        guard usersLock.tryLock(.exclusive) else {
            cluster.logger.info("private PostgreSQL left running for another Budget process")
            return
        }
        defer { usersLock.unlock() }
        try await cluster.stopServer(layout: layout, binaries: binaries, runner: runner)
    }
}
