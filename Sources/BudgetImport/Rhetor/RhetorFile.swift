// Rhetor's budget database, opened read-only with SQLite: its schema checked, its rows read in
// id order a page at a time, and its own figures (counts, token sums, cost totals) computed by
// SQLite for the reconciliation.
import Foundation
import Logging
import SQLiteNIO
import Synchronization

public struct RhetorFile: Sendable {
    public let path: String
    let connection: SQLiteConnection

    static let usageColumns = ["id", "timestamp", "provider", "model", "component", "task_type", "input_tokens", "output_tokens", "cost", "metadata"]
    static let settingsColumns = ["id", "period", "provider", "limit_amount", "enforcement", "start_date", "active"]

    /// Opens `path` read-only and checks that it is an intact SQLite file with Rhetor's tables.
    public static func open(path: String, logger: Logger) async throws -> RhetorFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ImportError(.unreadableFile, "\(path): no such file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ImportError(.unreadableFile, "\(path): not readable")
        }
        // A URI so that SQLite opens it read-only and never creates or changes anything next to it.
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let escaped = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? absolute
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: "file:\(escaped)?mode=ro"), logger: logger)
        } catch {
            throw ImportError(.unreadableFile, "\(path): cannot be opened as SQLite (\(error))")
        }
        let file = RhetorFile(path: path, connection: connection)
        do {
            try await file.checkIntegrity()
            try await file.checkSchema()
        } catch {
            try? await connection.close()
            throw error
        }
        return file
    }

    public func close() async {
        try? await connection.close()
    }

    private func checkIntegrity() async throws {
        let answer: [SQLiteRow]
        do {
            answer = try await connection.query("PRAGMA quick_check")
        } catch {
            throw ImportError(.unreadableFile, "\(path) is not a readable SQLite database (\(Self.describe(error)))")
        }
        let verdict = answer.compactMap { $0.columns.first?.data.string }
        guard verdict == ["ok"] else {
            throw ImportError(.unreadableFile, "\(path) is a damaged SQLite database: \(verdict.prefix(3).joined(separator: "; "))")
        }
    }

    private func checkSchema() async throws {
        for (table, expected) in [("usage", Self.usageColumns), ("budget_settings", Self.settingsColumns)] {
            let rows = try await connection.query("SELECT name FROM pragma_table_info(?)", [.text(table)])
            let names = Set(rows.compactMap { $0.column("name")?.string })
            if names.isEmpty {
                throw ImportError(.notRhetor, "\(path) is SQLite but not a Rhetor budget database: it has no table \"\(table)\"")
            }
            let missing = expected.filter { !names.contains($0) }
            if !missing.isEmpty {
                throw ImportError(.notRhetor, "\(path) is SQLite but not a Rhetor budget database: table \"\(table)\" lacks \(missing.joined(separator: ", "))")
            }
        }
    }

    public func usageCount() async throws -> Int {
        let rows = try await connection.query("SELECT count(*) FROM usage")
        return rows.first?.columns.first?.data.integer ?? 0
    }

    /// Up to `limit` usage rows with an id above `afterID`, in id order, and the problems of any
    /// row that cannot be carried over faithfully.
    func usagePage(after afterID: Int64, limit: Int) async throws -> (rows: [RhetorUsageRow], problems: [String]) {
        let collected = Mutex<(rows: [RhetorUsageRow], problems: [String])>(([], []))
        try await connection.query(
            "SELECT id, timestamp, provider, model, component, task_type, input_tokens, output_tokens, cost, metadata FROM usage WHERE id > ? ORDER BY id LIMIT ?",
            [.integer(SQLiteInt64(afterID)), .integer(limit)]
        ) { row in
            let converted = Self.usageRow(row)
            collected.withLock { page in
                switch converted {
                case .success(let row): page.rows.append(row)
                case .failure(let problem): page.problems.append(problem.message); page.rows.append(problem.row)
                }
            }
        }
        return collected.withLock { $0 }
    }

    func settings() async throws -> (rows: [RhetorSetting], problems: [String]) {
        let rows = try await connection.query("SELECT id, period, provider, limit_amount, enforcement, start_date, active FROM budget_settings ORDER BY id")
        var settings: [RhetorSetting] = []
        var problems: [String] = []
        for row in rows {
            let c = row.columns.map(\.data)
            let id = Int64(c[0].integer ?? 0)
            let period = c[1].string ?? ""
            let provider = c[2].string ?? ""
            let enforcement = c[4].string ?? "warn"
            let start = c[5].string ?? ""
            var amount: String?
            switch c[3] {
            case .float(let value): amount = ShortestDecimal.text(value)
            case .integer(let value): amount = String(value)
            case .null: amount = nil
            default: amount = nil; problems.append("budget_settings \(id): limit_amount is not a number")
            }
            if ["daily", "weekly", "monthly"].firstIndex(of: period) == nil {
                problems.append("budget_settings \(id): period \"\(period)\" is not daily, weekly or monthly")
            }
            if ["ignore", "warn", "enforce"].firstIndex(of: enforcement) == nil {
                problems.append("budget_settings \(id): enforcement \"\(enforcement)\" is not ignore, warn or enforce")
            }
            if provider.isEmpty { problems.append("budget_settings \(id): provider is empty") }
            if !RhetorTimestamp.isValid(start) { problems.append("budget_settings \(id): start_date \"\(start)\" is not a Rhetor timestamp") }
            if let amount, amount.hasPrefix("-") { problems.append("budget_settings \(id): limit_amount \(amount) is negative") }
            settings.append(RhetorSetting(id: id, period: period, provider: provider, limitAmount: amount, enforcement: enforcement,
                                          startDate: start, active: Int64(c[6].integer ?? 0)))
        }
        return (settings, problems)
    }

    struct RowProblem: Error {
        var row: RhetorUsageRow
        var message: String
    }

    static func usageRow(_ row: SQLiteRow) -> Result<RhetorUsageRow, RowProblem> {
        let c = row.columns.map(\.data)
        let id = Int64(c[0].integer ?? 0)
        var problems: [String] = []
        func text(_ data: SQLiteData, _ column: String) -> String? {
            switch data {
            case .null: return nil
            case .text(let value):
                if value.utf8.contains(0) { problems.append("\(column) contains a NUL character") }
                return value
            case .integer(let value): return String(value)
            case .float(let value): return ShortestDecimal.text(value)
            case .blob: problems.append("\(column) is a blob, not text"); return nil
            }
        }
        func tokens(_ data: SQLiteData, _ column: String) -> Int64? {
            let value: Int64?
            switch data {
            case .null: return nil
            case .integer(let v): value = Int64(v)
            case .float(let v): value = (v.rounded() == v && abs(v) < 9.2e18) ? Int64(v) : nil
            case .text(let v): value = Int64(v)
            case .blob: value = nil
            }
            guard let value else { problems.append("\(column) is not a whole number"); return nil }
            if value < 0 { problems.append("\(column) is negative (\(value))") }
            return value
        }
        var cost: String?
        switch c[8] {
        case .null: cost = nil
        case .float(let v):
            cost = ShortestDecimal.text(v)
            if cost == nil { problems.append("cost is not a finite number") }
        case .integer(let v): cost = String(v)
        case .text, .blob: problems.append("cost is not a number")
        }
        if let cost, cost.hasPrefix("-") { problems.append("cost is negative (\(cost))") }
        let timestamp = text(c[1], "timestamp") ?? ""
        if !RhetorTimestamp.isValid(timestamp) { problems.append("timestamp \"\(timestamp)\" is not a Rhetor timestamp") }
        let usage = RhetorUsageRow(
            id: id, timestamp: timestamp, provider: text(c[2], "provider"), model: text(c[3], "model"),
            component: text(c[4], "component"), taskType: text(c[5], "task_type"),
            inputTokens: tokens(c[6], "input_tokens"), outputTokens: tokens(c[7], "output_tokens"),
            cost: cost, metadata: text(c[9], "metadata")
        )
        if problems.isEmpty { return .success(usage) }
        return .failure(RowProblem(row: usage, message: "usage \(id): " + problems.joined(separator: "; ")))
    }

    /// SQLite's own figures of the file, grouped as the reconciliation groups them. Token sums
    /// are taken in two parts (billions and the rest) so they cannot overflow SQLite's integers.
    func figures() async throws -> [ReconciliationKey: FileFigures] {
        let measures = "count(*), sum(input_tokens / 1000000000), sum(input_tokens % 1000000000), sum(output_tokens / 1000000000), sum(output_tokens % 1000000000), total(cost)"
        let query = """
            SELECT 'total', NULL, NULL, NULL, \(measures) FROM usage
            UNION ALL SELECT 'provider', NULL, provider, NULL, \(measures) FROM usage GROUP BY provider
            UNION ALL SELECT 'month', substr(timestamp, 1, 7), NULL, NULL, \(measures) FROM usage GROUP BY substr(timestamp, 1, 7)
            UNION ALL SELECT 'provider_model', NULL, provider, model, \(measures) FROM usage GROUP BY provider, model
            UNION ALL SELECT 'month_provider', substr(timestamp, 1, 7), provider, NULL, \(measures) FROM usage GROUP BY substr(timestamp, 1, 7), provider
            """
        var figures: [ReconciliationKey: FileFigures] = [:]
        for row in try await connection.query(query) {
            let c = row.columns.map(\.data)
            guard let dimension = ReconciliationKey.Dimension(rawValue: c[0].string ?? "") else { continue }
            let key = ReconciliationKey(dimension: dimension, month: c[1].string, provider: c[2].string, model: c[3].string)
            func sum(_ high: SQLiteData, _ low: SQLiteData) -> Decimal {
                Decimal(high.integer ?? 0) * 1_000_000_000 + Decimal(low.integer ?? 0)
            }
            figures[key] = FileFigures(rows: c[4].integer ?? 0, inputTokens: sum(c[5], c[6]), outputTokens: sum(c[7], c[8]), costTotal: c[9].double ?? 0)
        }
        return figures
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? SQLiteError { return error.message }
        return "\(error)"
    }
}
