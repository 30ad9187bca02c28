// Finds the installed PostgreSQL server programs (initdb, pg_ctl, postgres).
import Foundation

/// The directory holding PostgreSQL's server programs.
public struct PostgresBinaries: Sendable, Equatable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var initdb: String { directory + "/initdb" }
    public var pgCtl: String { directory + "/pg_ctl" }
    public var postgres: String { directory + "/postgres" }

    static let installHint = """
        PostgreSQL's server programs (initdb, pg_ctl) were not found. Install them with
            sudo apt-get update && sudo apt-get install -y postgresql
        or set BUDGET_PG_BINDIR to the directory that holds them,
        or set BUDGET_DATABASE_URL to use an existing PostgreSQL server.
        """

    /// Looks in `BUDGET_PG_BINDIR` (when given), then `pg_config --bindir`, then the
    /// newest `/usr/lib/postgresql/*/bin`.
    public static func locate(override: String? = nil) async throws -> PostgresBinaries {
        if let override {
            let candidate = PostgresBinaries(directory: override)
            guard candidate.isComplete else {
                throw PrivateClusterError(.postgresNotInstalled, "BUDGET_PG_BINDIR=\(override) holds no initdb and pg_ctl.\n" + installHint)
            }
            return candidate
        }
        var candidates: [String] = []
        if let pgConfig = ["/usr/bin/pg_config", "/usr/local/bin/pg_config"].first(where: FileManager.default.isExecutableFile(atPath:)),
           let result = try? await ProcessRunner().run(pgConfig, ["--bindir"]), result.status == 0 {
            candidates.append(result.output)
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append("\(root)/\(version)/bin")
        }
        if let found = candidates.map(PostgresBinaries.init(directory:)).first(where: \.isComplete) {
            return found
        }
        throw PrivateClusterError(.postgresNotInstalled, installHint)
    }

    var isComplete: Bool {
        [initdb, pgCtl, postgres].allSatisfy(FileManager.default.isExecutableFile(atPath:))
    }
}
