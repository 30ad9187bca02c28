// How every command finds its database: BUDGET_DATABASE_URL when set, else the private
// cluster under the data directory (started if needed, shared with other Budget processes).
import Foundation
import Logging

public struct DatabaseAccess: Sendable {
    public let endpoint: DatabaseEndpoint
    /// Set when the database is the private cluster.
    public let lease: ClusterLease?

    /// Resolves the database the same way for `serve`, `migrate`, `db url`, imports and syncs.
    public static func acquire(
        databaseURL: String?,
        dataDirectory: String,
        clusterOptions: PrivateCluster.Options = .init(),
        logger: Logger
    ) async throws -> DatabaseAccess {
        if let databaseURL {
            let endpoint = try DatabaseEndpoint(url: databaseURL)
            logger.info("using the configured database", metadata: ["database": "\(endpoint.database)"])
            return DatabaseAccess(endpoint: endpoint, lease: nil)
        }
        let cluster = PrivateCluster(dataDirectory: dataDirectory, options: clusterOptions, logger: logger)
        let lease = try await cluster.acquire()
        return DatabaseAccess(endpoint: lease.endpoint, lease: lease)
    }

    /// Gives the private cluster back (stopping it if no other Budget process uses it).
    public func release() async throws {
        try await lease?.release()
    }
}
