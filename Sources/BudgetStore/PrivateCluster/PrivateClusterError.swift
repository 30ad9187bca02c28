// Errors of the private PostgreSQL cluster, each with a message a person can act on.
public struct PrivateClusterError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let postgresNotInstalled = Code(name: "postgres_not_installed")
        public static let toolMissing = Code(name: "tool_missing")
        public static let serverUserMissing = Code(name: "server_user_missing")
        public static let initdbFailed = Code(name: "initdb_failed")
        public static let startFailed = Code(name: "start_failed")
        public static let stopFailed = Code(name: "stop_failed")
        public static let filesystem = Code(name: "filesystem")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
