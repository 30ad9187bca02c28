import AsyncHTTPClient
import BudgetStore
import BudgetTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

/// Drives the real `budget` binary built next to the test runner.
@Suite("`budget serve` starts its own PostgreSQL, survives SIGKILL, and stops cleanly", .serialized)
struct ServeProcessTests {
    static var executable: String? {
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("budget").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    struct Server {
        let process: Process
        let port: Int
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { throw POSIXError(.EADDRINUSE) }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func start(dataDirectory: String, port: Int) throws -> Server {
        try start(port: port, settings: ["BUDGET_DATA_DIR": dataDirectory, "BUDGET_LOG_FORMAT": "json"], removing: ["BUDGET_DATABASE_URL"])
    }

    /// `budget serve` on `port` with these settings over the test run's environment.
    func start(port: Int, settings: [String: String], removing: [String] = []) throws -> Server {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.executable, "the budget executable was not built"))
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment
        environment["BUDGET_PORT"] = String(port)
        environment["BUDGET_SQL_DIR"] = TestDatabaseServer.sqlDirectory.path
        environment.merge(settings) { _, given in given }
        for name in removing { environment.removeValue(forKey: name) }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return Server(process: process, port: port)
    }

    func status(_ path: String, port: Int) async -> Int? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return nil }
        return Int(response.status.code)
    }

    func waitUntilReady(_ server: Server) async throws {
        for _ in 0..<600 {
            if await status("/ready", port: server.port) == 200 { return }
            guard server.process.isRunning else { Issue.record("budget serve exited with \(server.process.terminationStatus)"); return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("budget serve did not become ready in 60 s")
    }

    func waitForExit(_ process: Process) async throws {
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
    }

    func postmasterRuns(_ dataDirectory: String) -> Bool {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postgres/pgdata/postmaster.pid", encoding: .utf8),
              let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { return false }
        return kill(pid, 0) == 0
    }

    @Test func serveKillRestartAndStop() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("budget-serve-test-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let port = try freePort()
        let endpoint = DatabaseEndpoint(address: .unixSocket(directory: dataDirectory + "/postgres/run", port: 5432), username: "budget", database: "budget")

        let first = try start(dataDirectory: dataDirectory, port: port)
        try await waitUntilReady(first)
        #expect(await status("/health", port: port) == 200)
        try await withClient(endpoint) { client in
            try await client.query("INSERT INTO budgets (name) VALUES ('survives restarts')")
        }

        // SIGKILL: no chance to clean up. The next start must recover on its own.
        kill(first.process.processIdentifier, SIGKILL)
        try await waitForExit(first.process)
        let second = try start(dataDirectory: dataDirectory, port: port)
        try await waitUntilReady(second)
        let names = try await withClient(endpoint) { client in
            var names: [String] = []
            for try await name in try await client.query("SELECT name FROM budgets").decode(String.self) { names.append(name) }
            return names
        }
        #expect(names == ["survives restarts"])

        // SIGTERM: orderly shutdown, and the private PostgreSQL stops with it.
        kill(second.process.processIdentifier, SIGTERM)
        try await waitForExit(second.process)
        #expect(!second.process.isRunning)
        #expect(second.process.terminationStatus == 0)
        #expect(!postmasterRuns(dataDirectory))
    }

    @Test func logLinesCarryTheirMetadataAsTextOrJSON() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let run = try await ImportCommandTests().budget(["migrate"], database: database,
                                                        environment: ["BUDGET_LOG_LEVEL": "info", "BUDGET_LOG_FORMAT": "text"])
        #expect(run.status == 0, "\(run.errors)")
        // e.g. 2026-11-22T15:04:05+0000 info budget: name=budgets version=1 [BudgetStore] applied migration
        let applied = run.errors.split(separator: "\n").filter { $0.hasSuffix("[BudgetStore] applied migration") }
        let first = try #require(applied.first, "\(run.errors)")
        #expect(first.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info budget: name=budgets version=1 \[BudgetStore\] applied migration/) != nil,
                "\(first)")
        #expect(applied.count > 20)

        let json = try await ImportCommandTests().budget(["migrate"], database: try await TestDatabaseServer.shared.makeDatabase(migrated: false),
                                                         environment: ["BUDGET_LOG_LEVEL": "info", "BUDGET_LOG_FORMAT": "json"])
        #expect(json.status == 0, "\(json.errors)")
        let objects = json.errors.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let firstObject = try #require(objects.first { $0["message"] as? String == "applied migration" }, "\(json.errors)")
        #expect(firstObject["name"] as? String == "budgets")
        #expect(firstObject["version"] as? String == "1")
        #expect(firstObject["level"] as? String == "info")
        #expect(firstObject["label"] as? String == "budget")
        #expect(firstObject["source"] as? String == "BudgetStore")
    }

    @Test func aBadSettingStopsServeWithTheSettingsName() async throws {
        let database = try await TestDatabaseServer.shared.makeDatabase(migrated: false)
        let run = try await ImportCommandTests().budget(["serve"], database: database, environment: ["BUDGET_WEBHOOKS": "maybe"])
        #expect(run.status != 0)
        #expect(run.errors.contains("BUDGET_WEBHOOKS must be on or off, not 'maybe'"), "\(run.errors)")
        let stream = try await ImportCommandTests().budget(["serve"], database: database, environment: ["BUDGET_ALERT_STREAM": "no"])
        #expect(stream.status != 0)
        #expect(stream.errors.contains("BUDGET_ALERT_STREAM must be on or off, not 'no'"), "\(stream.errors)")
        let previousAlone = try await ImportCommandTests().budget(["serve"], database: database,
                                                                  environment: ["BUDGET_SECRET_KEY_PREVIOUS": "old-key-0123456789abcdef"])
        #expect(previousAlone.status != 0)
        #expect(previousAlone.errors.contains("BUDGET_SECRET_KEY_PREVIOUS needs BUDGET_SECRET_KEY"), "\(previousAlone.errors)")
        let shortPrevious = try await ImportCommandTests().budget(["serve"], database: database, environment: [
            "BUDGET_SECRET_KEY": "new-key-0123456789abcdef", "BUDGET_SECRET_KEY_PREVIOUS": "old-key-0123456789abcdef,short",
        ])
        #expect(shortPrevious.status != 0)
        #expect(shortPrevious.errors.contains("BUDGET_SECRET_KEY_PREVIOUS must hold keys of at least 16 characters"), "\(shortPrevious.errors)")
    }
}
