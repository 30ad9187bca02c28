// Where the database is and how to log in: parsed from BUDGET_DATABASE_URL or produced by
// the private cluster, and turned into postgres-nio configurations.
import Foundation
import NIOSSL
import PostgresNIO

/// The address and credentials of one PostgreSQL database.
public struct DatabaseEndpoint: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket directory and the port that names the socket file (`.s.PGSQL.<port>`).
        case unixSocket(directory: String, port: Int)
    }

    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var address: Address
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(address: Address, username: String, password: String? = nil, database: String, tls: TLSMode = .disable) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseEndpoint {
        var copy = self
        copy.database = database
        return copy
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=…&host=/socket/dir`.
    public init(url string: String) throws {
        guard let components = URLComponents(string: string),
              let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw DatabaseEndpointError(message: "BUDGET_DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        let socketHost = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        if let socketHost {
            address = .unixSocket(directory: socketHost, port: port)
        } else {
            let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"] ?? "localhost"
            address = .tcp(host: host, port: port)
        }
        username = components.user?.removingPercentEncoding ?? query["user"] ?? "postgres"
        password = components.password?.removingPercentEncoding ?? query["password"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? (query["dbname"] ?? username) : (path.removingPercentEncoding ?? path)
        switch query["sslmode"] ?? "prefer" {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        case let other:
            throw DatabaseEndpointError(message: "unsupported sslmode '\(other)' in BUDGET_DATABASE_URL (use disable, prefer or require)")
        }
        if case .unixSocket = address { tls = .disable }
    }

    /// A libpq connection string for people and tools such as `psql`.
    public var url: String {
        var credentials = percentEncoded(username)
        if let password { credentials += ":" + percentEncoded(password) }
        switch address {
        case .tcp(let host, let port):
            let mode = tls == .disable ? "disable" : tls.rawValue
            return "postgresql://\(credentials)@\(host):\(port)/\(percentEncoded(database))?sslmode=\(mode)"
        case .unixSocket(let directory, let port):
            return "postgresql://\(credentials)@/\(percentEncoded(database))?host=\(percentEncoded(directory))&port=\(port)"
        }
    }

    private func percentEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? value
    }

    /// Configuration for a pooled `PostgresClient`.
    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch address {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
        case .unixSocket(let directory, let port):
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// Configuration of `budget serve`'s pool: its `poolSize` connections stay open.
    ///
    /// postgres-nio gives every connection it may close when idle an idle timer, and every idle
    /// connection a keep-alive timer; each is a task group of its own, started when the
    /// connection goes back to the pool and cancelled when it is next leased. On the hot path a
    /// connection is leased for every engine batch, so those timers cost 3.6 task creations per
    /// allocate+commit pair (1,000 pairs/s, counted with uprobes; docs/PERFORMANCE.md). Connections
    /// that always stay open need no idle timer. The keep-alive query is kept where it guards
    /// something: over TCP, where a network can drop an idle connection without a word. A Unix
    /// socket (the private cluster) cannot be dropped so; a closed one is noticed at once.
    public func servingClientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        var configuration = clientConfiguration(maximumConnections: poolSize)
        configuration.options.minimumConnections = poolSize
        if case .unixSocket = address { configuration.options.keepAliveBehavior = nil }
        return configuration
    }

    /// Configuration for one dedicated `PostgresConnection` (migrations, administration).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        switch address {
        case .tcp(let host, let port):
            return .init(host: host, port: port, username: username, password: password, database: database, tls: try connectionTLS())
        case .unixSocket(let directory, let port):
            return .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }

    private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

public struct DatabaseEndpointError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

extension PostgresConnection {
    /// Opens one connection to the endpoint, with a fresh connection id for the logs.
    static func connect(to endpoint: DatabaseEndpoint, logger: Logger) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: try endpoint.connectionConfiguration(),
            id: Int.random(in: 1...Int(Int32.max)),
            logger: logger
        )
    }
}
