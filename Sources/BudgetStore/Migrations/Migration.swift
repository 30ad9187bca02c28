// One numbered schema change from sql/migrations, and where those files are found.
import Foundation

public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// `0001_budgets.sql` → version 1, name "budgets".
    public static func load(from directory: URL) throws -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(.missingFiles, "cannot read migrations in \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in files.sorted() where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError(.badFileName, "migration file \(file) must be named NNNN_name.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        let versions = migrations.map(\.version)
        if let duplicate = versions.first(where: { v in versions.filter { $0 == v }.count > 1 }) {
            throw MigrationError(.badFileName, "two migration files share version \(duplicate)")
        }
        return migrations.sorted { $0.version < $1.version }
    }
}

/// Finds the `sql/` directory: BUDGET_SQL_DIR, else next to (or above) the executable,
/// else under the working directory.
public enum SQLDirectory {
    public static func locate(override: String? = nil, executablePath: String = CommandLine.arguments.first ?? "") throws -> URL {
        if let override {
            let url = URL(fileURLWithPath: override)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("migrations").path) else {
                throw MigrationError(.missingFiles, "BUDGET_SQL_DIR=\(override) has no migrations/ folder")
            }
            return url
        }
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("sql"))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql"))
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("migrations").path) }) {
            return found
        }
        throw MigrationError(.missingFiles, "the sql/ folder with Budget's migrations was not found next to the executable or in the working directory; set BUDGET_SQL_DIR")
    }
}

public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let missingFiles = Code(name: "missing_files")
        public static let badFileName = Code(name: "bad_file_name")
        public static let checksumMismatch = Code(name: "checksum_mismatch")
        public static let unknownApplied = Code(name: "unknown_applied_migration")
        public static let failed = Code(name: "migration_failed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
