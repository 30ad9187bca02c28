// Large Rhetor files for the import benchmark: the rows of a real Rhetor database repeated until
// there are enough, each copy's timestamps moved by a few seconds, in Rhetor's own schema.
import Foundation
import Logging
import SQLiteNIO

public enum RhetorSampleFile {
    /// Rhetor's `_init_db()` schema, verbatim.
    static let schema = [
        """
        CREATE TABLE usage (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    timestamp TEXT,
                    provider TEXT,
                    model TEXT,
                    component TEXT,
                    task_type TEXT,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    cost REAL,
                    metadata TEXT
                )
        """,
        """
        CREATE TABLE budget_settings (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    period TEXT,  -- daily, weekly, monthly
                    provider TEXT,  -- specific provider or 'all'
                    limit_amount REAL,
                    enforcement TEXT,  -- ignore, warn, enforce
                    start_date TEXT,
                    active INTEGER
                )
        """,
    ]

    /// Writes `rows` usage rows (and the settings) of `source` into a new file at `path`.
    public static func write(rows: Int, from source: String, to path: String, logger: Logger) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ImportError(.invalidOption, "\(path) exists; give a new file name")
        }
        let sourceFile = try await RhetorFile.open(path: source, logger: logger)
        let sourceRows = try await sourceFile.usageCount()
        await sourceFile.close()
        guard sourceRows > 0 else { throw ImportError(.invalidOption, "\(source) has no usage rows to repeat") }

        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            _ = try await connection.query("PRAGMA journal_mode = OFF")
            _ = try await connection.query("PRAGMA synchronous = OFF")
            for statement in schema { _ = try await connection.query(statement) }
            _ = try await connection.query("ATTACH DATABASE ? AS src", [.text(source)])
            let copies = (rows + sourceRows - 1) / sourceRows
            _ = try await connection.query("""
                WITH RECURSIVE copies(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM copies WHERE k + 1 < ?)
                INSERT INTO usage (timestamp, provider, model, component, task_type, input_tokens, output_tokens, cost, metadata)
                SELECT CASE WHEN k = 0 THEN u.timestamp ELSE strftime('%Y-%m-%dT%H:%M:%f', u.timestamp, '+' || k || ' seconds') END,
                       u.provider, u.model, u.component, u.task_type, u.input_tokens, u.output_tokens, u.cost, u.metadata
                FROM copies, src.usage u ORDER BY k, u.id LIMIT ?
                """, [.integer(copies), .integer(rows)])
            _ = try await connection.query("""
                INSERT INTO budget_settings (period, provider, limit_amount, enforcement, start_date, active)
                SELECT period, provider, limit_amount, enforcement, start_date, active FROM src.budget_settings ORDER BY id
                """)
            _ = try await connection.query("DETACH DATABASE src")
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
