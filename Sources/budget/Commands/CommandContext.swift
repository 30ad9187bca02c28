// What every command that needs the database shares: configuration, logging, the database.
import BudgetStore
import Foundation
import Logging
import PostgresNIO

struct CommandContext {
    let configuration: BudgetConfiguration
    let logger: Logger

    /// Reads the configuration and installs logging; call once per process.
    static func make(label: String = "budget") throws -> CommandContext {
        let configuration = try BudgetConfiguration.fromEnvironment()
        LogSetup.bootstrap(configuration)
        return CommandContext(configuration: configuration, logger: Logger(label: label))
    }

    var clusterOptions: PrivateCluster.Options {
        var options = PrivateCluster.Options()
        options.binariesOverride = configuration.postgresBinDirectory
        return options
    }

    /// Runs `body` with the database, releasing the private cluster afterwards even on error.
    func withDatabase<T>(_ body: (DatabaseEndpoint) async throws -> T) async throws -> T {
        let access = try await DatabaseAccess.acquire(
            databaseURL: configuration.databaseURL,
            dataDirectory: configuration.dataDirectory,
            clusterOptions: clusterOptions,
            logger: logger
        )
        do {
            let result = try await body(access.endpoint)
            try await access.release()
            return result
        } catch {
            do { try await access.release() } catch { logger.error("could not release the private cluster", metadata: ["error": "\(error)"]) }
            throw error
        }
    }

    /// Runs `body` with a pooled client on `endpoint`, the client running only for as long.
    func withClient<T: Sendable>(_ endpoint: DatabaseEndpoint, maximumConnections: Int = 2, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: endpoint.clientConfiguration(maximumConnections: maximumConnections))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    func migrations() throws -> [Migration] {
        try Migration.load(from: SQLDirectory.locate(override: configuration.sqlDirectory).appendingPathComponent("migrations"))
    }
}
