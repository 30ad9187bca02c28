// `budget import rhetor`: Rhetor's SQLite budget database into Budget's ledger, budget and limits,
// in one transaction. The rows are copied into staging tables (COPY), turned into Budget's rows by
// the SQL in sql/import/rhetor/, reconciled against the file, and committed only if every figure
// agrees. Rows imported before (same source, same Rhetor id) are never imported twice.
import BudgetCore
import BudgetStore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

public struct RhetorImportOptions: Sendable {
    /// Names the Rhetor database the rows come from; ids are unique within a source.
    public var source: String
    /// The zone Rhetor's naive local timestamps are read in.
    public var timezone: String
    /// The budget that receives Rhetor's limits.
    public var budgetName: String
    /// Reconcile and report, then roll back.
    public var dryRun: Bool
    /// Rows per page read from SQLite and sent with COPY.
    public var pageSize: Int

    public init(source: String = "rhetor", timezone: String = "UTC", budgetName: String = "rhetor", dryRun: Bool = false, pageSize: Int = 20_000) {
        self.source = source
        self.timezone = timezone
        self.budgetName = budgetName
        self.dryRun = dryRun
        self.pageSize = pageSize
    }
}

public struct ImportProgress: Sendable {
    public enum Phase: String, Sendable {
        case checking = "checking the file"
        case copying = "copying rows"
        case transforming = "writing the ledger"
        case reconciling = "reconciling"
    }

    public var phase: Phase
    public var done: Int
    public var total: Int
}

public struct RhetorImportReport: Sendable {
    public enum Outcome: String, Sendable {
        /// The rows and limits were written.
        case imported
        /// Everything in the file was imported before; nothing was written.
        case unchanged
        /// A dry run: reconciled and rolled back.
        case dryRun = "dry_run"
    }

    public var outcome: Outcome
    public var file: String
    public var sha256: String
    public var source: String
    public var timezone: String
    public var budgetName: String
    public var rowsInFile: Int
    public var rowsAdded: Int
    public var rowsBefore: Int
    public var settingsInFile: Int
    public var settingsChanged: Int
    public var limitVersionsAdded: Int
    public var unpricedRowsAdded: Int
    public var reconciliation: Reconciliation
    public var duration: Duration
    /// Time spent in each phase, in order (for the benchmark).
    public var phases: [(phase: ImportProgress.Phase, duration: Duration)]
    public var runID: Int64?

    public var rowsPerMinute: Double {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds > 0 ? Double(rowsInFile) / seconds * 60 : 0
    }
}

public struct RhetorImporter: Sendable {
    let client: PostgresClient
    let scripts: ImportScripts
    let logger: Logger

    public init(client: PostgresClient, scripts: ImportScripts, logger: Logger) {
        self.client = client
        self.scripts = scripts
        self.logger = logger
    }

    public func run(file path: String, options: RhetorImportOptions,
                    progress: @escaping @Sendable (ImportProgress) -> Void = { _ in }) async throws -> RhetorImportReport {
        let started = ContinuousClock.now
        guard TimeZone(identifier: options.timezone) != nil else {
            throw ImportError(.invalidOption, "--timezone \(options.timezone) is not an IANA time zone (e.g. UTC, Europe/Berlin)")
        }
        guard !options.source.trimmingCharacters(in: .whitespaces).isEmpty, !options.budgetName.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ImportError(.invalidOption, "--source and --budget must not be empty")
        }
        progress(ImportProgress(phase: .checking, done: 0, total: 1))
        let timer = PhaseTimer(phase: .checking)
        let file = try await RhetorFile.open(path: path, logger: logger)
        do {
            let report = try await run(file: file, path: path, options: options, started: started, timer: timer, progress: progress)
            await file.close()
            return report
        } catch {
            await file.close()
            throw error
        }
    }

    private func run(file: RhetorFile, path: String, options: RhetorImportOptions, started: ContinuousClock.Instant,
                     timer: PhaseTimer, progress: @escaping @Sendable (ImportProgress) -> Void) async throws -> RhetorImportReport {
        let sha256 = try Self.sha256(of: path)
        let total = try await file.usageCount()
        let (settings, settingProblems) = try await file.settings()
        if !settingProblems.isEmpty {
            throw ImportError(.invalidRow, "\(path): \(settingProblems.count) budget setting(s) cannot be imported:\n  " + settingProblems.prefix(20).joined(separator: "\n  "))
        }
        let sqliteFigures = try await file.figures()

        return try await client.withLiveConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let report = try await importInTransaction(
                    connection: connection, file: file, path: path, sha256: sha256, total: total, settings: settings,
                    sqliteFigures: sqliteFigures, options: options, started: started, timer: timer, progress: progress)
                if report.outcome == .imported {
                    try await connection.query("COMMIT", logger: logger)
                } else {
                    try await connection.query("ROLLBACK", logger: logger)
                }
                return report
            } catch {
                await connection.undo("ROLLBACK", after: error, logger: logger)
                throw Self.explain(error)
            }
        }
    }

    private func importInTransaction(
        connection: PostgresConnection, file: RhetorFile, path: String, sha256: String, total: Int, settings: [RhetorSetting],
        sqliteFigures: [ReconciliationKey: FileFigures], options: RhetorImportOptions, started: ContinuousClock.Instant,
        timer: PhaseTimer, progress: @escaping @Sendable (ImportProgress) -> Void
    ) async throws -> RhetorImportReport {
        var timer = timer
        // PostgreSQL must know the zone too (it reads the timestamps).
        _ = try await connection.query("SELECT now() AT TIME ZONE \(options.timezone)", logger: logger)
        try await runScript(scripts.staging, on: connection)
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        let runRows = try await connection.query("""
            INSERT INTO import_runs (kind, source, file_name, file_sha256, timezone, rows_in_file)
            VALUES ('rhetor', \(options.source), \(fileName), \(sha256), \(options.timezone), \(total)) RETURNING id
            """, logger: logger)
        var runID: Int64 = 0
        for try await id in runRows.decode(Int64.self) { runID = id }
        try await connection.query("""
            INSERT INTO rhetor_import_params (source, timezone, budget_name, run_id)
            VALUES (\(options.source), \(options.timezone), \(options.budgetName), \(runID))
            """, logger: logger)
        var rowsBefore = 0
        for try await n in try await connection.query(
            "SELECT count(*)::bigint FROM legacy_usage WHERE legacy_source = \(options.source)", logger: logger).decode(Int64.self) {
            rowsBefore = Int(n)
        }

        // Copy: SQLite pages in id order, each sent with COPY as soon as it is read.
        progress(ImportProgress(phase: .copying, done: 0, total: total))
        timer.next(.copying)
        var problems: [String] = []
        var copied = 0
        let pageSize = options.pageSize
        try await connection.copyFrom(
            table: "rhetor_usage_staging",
            columns: ["legacy_id", "raw_timestamp", "provider", "model", "component", "task_type", "input_tokens", "output_tokens", "cost", "metadata"],
            logger: logger
        ) { writer in
            var next = Task { try await file.usagePage(after: Int64.min, limit: pageSize) }
            defer { next.cancel() }
            while true {
                let page = try await next.value
                guard let last = page.rows.last else { break }
                let cursor = last.id
                next = Task { try await file.usagePage(after: cursor, limit: pageSize) }  // read ahead while this page is sent
                problems += page.problems
                var buffer = ByteBuffer()
                buffer.reserveCapacity(page.rows.count * 256)
                for row in page.rows {
                    var line = CopyTextRow()
                    line.append(row.id); line.append(row.timestamp); line.append(row.provider); line.append(row.model)
                    line.append(row.component); line.append(row.taskType); line.append(row.inputTokens); line.append(row.outputTokens)
                    line.append(row.cost); line.append(row.metadata)
                    line.write(into: &buffer)
                }
                if problems.isEmpty { try await writer.write(buffer) }
                copied += page.rows.count
                progress(ImportProgress(phase: .copying, done: copied, total: total))
            }
        }
        if !problems.isEmpty {
            throw ImportError(.invalidRow, "\(path): \(problems.count) usage row(s) cannot be imported faithfully; nothing was changed:\n  "
                              + problems.prefix(20).joined(separator: "\n  ") + (problems.count > 20 ? "\n  …" : ""))
        }
        try await connection.copyFrom(
            table: "rhetor_settings_staging",
            columns: ["legacy_id", "period", "provider", "limit_amount", "enforcement", "start_date", "active"],
            logger: logger
        ) { writer in
            var buffer = ByteBuffer()
            for s in settings {
                var line = CopyTextRow()
                line.append(s.id); line.append(s.period); line.append(s.provider); line.append(s.limitAmount)
                line.append(s.enforcement); line.append(s.startDate); line.append(s.active)
                line.write(into: &buffer)
            }
            try await writer.write(buffer)
        }
        try await connection.query("ANALYZE rhetor_usage_staging", logger: logger)

        progress(ImportProgress(phase: .transforming, done: 0, total: 1))
        timer.next(.transforming)
        try await runScript(scripts.transform, on: connection)

        progress(ImportProgress(phase: .reconciling, done: 0, total: 1))
        timer.next(.reconciling)
        try await runScript(scripts.reconcile, on: connection)
        let reconciliation = try await readReconciliation(connection: connection, sqlite: sqliteFigures)

        var rowsAdded = 0, settingsChanged = 0, versionsAdded = 0, unpricedAdded = 0
        let counts = try await connection.query("""
            SELECT r.rows_added, r.limit_versions_added,
                   (SELECT count(*) FROM legacy_limit_settings s WHERE s.import_run_id = r.id)::bigint,
                   (SELECT count(*) FROM rhetor_usage_new WHERE unpriced)::bigint
            FROM import_runs r WHERE r.id = \(runID)
            """, logger: logger)
        for try await (rows, versions, changed, unpriced) in counts.decode((Int64, Int64, Int64, Int64).self) {
            (rowsAdded, versionsAdded, settingsChanged, unpricedAdded) = (Int(rows), Int(versions), Int(changed), Int(unpriced))
        }
        progress(ImportProgress(phase: .reconciling, done: 1, total: 1))

        guard reconciliation.matches else {
            let lines = reconciliation.differences.prefix(10).map { "\($0.key.dimension.rawValue) \($0.key.label): \($0.problems.joined(separator: "; "))" }
            throw ImportError(.reconciliationFailed, "the ledger would not reproduce \(path); rolled back, nothing changed:\n  " + lines.joined(separator: "\n  "))
        }
        let outcome: RhetorImportReport.Outcome = options.dryRun ? .dryRun : (rowsAdded == 0 && settingsChanged == 0 ? .unchanged : .imported)
        if outcome == .imported {
            let summary = try ReconciliationSummary(reconciliation)
            try await connection.query("""
                UPDATE import_runs SET finished_at = now(), reconciliation = \(summary.json)::jsonb WHERE id = \(runID)
                """, logger: logger)
        }
        return RhetorImportReport(
            outcome: outcome, file: path, sha256: sha256, source: options.source, timezone: options.timezone, budgetName: options.budgetName,
            rowsInFile: total, rowsAdded: rowsAdded, rowsBefore: rowsBefore, settingsInFile: settings.count, settingsChanged: settingsChanged,
            limitVersionsAdded: versionsAdded, unpricedRowsAdded: unpricedAdded, reconciliation: reconciliation,
            duration: ContinuousClock.now - started, phases: timer.finish(), runID: outcome == .imported ? runID : nil)
    }

    private func runScript(_ sql: String, on connection: PostgresConnection) async throws {
        for statement in SQLScript.statements(in: sql) {
            let started = ContinuousClock.now
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            let firstLine = statement.split(separator: "\n").first { !$0.hasPrefix("--") } ?? ""
            logger.debug("import statement done", metadata: ["duration": "\(ContinuousClock.now - started)", "statement": "\(firstLine.prefix(80))"])
        }
    }

    private func readReconciliation(connection: PostgresConnection, sqlite: [ReconciliationKey: FileFigures]) async throws -> Reconciliation {
        let rows = try await connection.query("""
            SELECT dimension, month, provider, model,
                   file_rows::bigint, file_input_tokens::text, file_output_tokens::text, file_cost::text,
                   ledger_rows::bigint, ledger_input_tokens::text, ledger_output_tokens::text, ledger_cost::text
            FROM rhetor_reconciliation
            """, logger: logger)
        var lines: [ReconciliationLine] = []
        var seen = Set<ReconciliationKey>()
        for try await row in rows {
            let (dimension, month, provider, model, fileRows, fileIn, fileOut, fileCost, ledgerRows, ledgerIn, ledgerOut, ledgerCost) =
                try row.decode((String, String?, String?, String?, Int64, String, String, String, Int64, String, String, String).self)
            guard let kind = ReconciliationKey.Dimension(rawValue: dimension) else { continue }
            let key = ReconciliationKey(dimension: kind, month: month, provider: provider, model: model)
            func figures(_ n: Int64, _ i: String, _ o: String, _ c: String) -> Figures {
                Figures(rows: Int(n), inputTokens: Decimal(exactly: i) ?? -1, outputTokens: Decimal(exactly: o) ?? -1, cost: Decimal(exactly: c) ?? -1)
            }
            seen.insert(key)
            lines.append(ReconciliationLine(key: key, file: figures(fileRows, fileIn, fileOut, fileCost),
                                            ledger: figures(ledgerRows, ledgerIn, ledgerOut, ledgerCost), sqlite: sqlite[key]))
        }
        // Groups SQLite sees but the copy does not are differences too.
        for (key, figures) in sqlite where !seen.contains(key) {
            lines.append(ReconciliationLine(key: key, file: .zero, ledger: .zero, sqlite: figures))
        }
        return Reconciliation(lines: lines.sorted { $0.key < $1.key })
    }

    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImportError(.unreadableFile, "\(path): no such file or not readable")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return HexText.lowercase(hasher.finalize())
    }

    /// Errors of the transform in words: PostgreSQL's message for what the SQL refused.
    static func explain(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError, let info = error.serverInfo else { return error }
        let message = info[.message] ?? "\(error)"
        if info[.sqlState] == "BUD01" { return ImportError(.conflictingHistory, message) }
        if PostgresClient.sessionEnded(by: error) {
            return ImportError(.transformFailed, "the database ended the import's session, nothing was changed: \(message)")
        }
        return ImportError(.transformFailed, "the import transform failed, nothing was changed: \(message)" + (info[.detail].map { " (\($0))" } ?? ""))
    }
}

/// Measures how long each phase of an import takes.
struct PhaseTimer {
    private var current: ImportProgress.Phase
    private var since = ContinuousClock.now
    private var done: [(phase: ImportProgress.Phase, duration: Duration)] = []

    init(phase: ImportProgress.Phase) { current = phase }

    mutating func next(_ phase: ImportProgress.Phase) {
        let now = ContinuousClock.now
        done.append((current, now - since))
        (current, since) = (phase, now)
    }

    func finish() -> [(phase: ImportProgress.Phase, duration: Duration)] {
        done + [(current, ContinuousClock.now - since)]
    }
}

/// What is stored with the import run: the figures per group, as exact strings.
struct ReconciliationSummary {
    var json: String

    init(_ reconciliation: Reconciliation) throws {
        let groups: [JSONValue] = reconciliation.lines.map { line in
            var object: [String: JSONValue] = [
                "dimension": .string(line.key.dimension.rawValue),
                "rows": .string(String(line.ledger.rows)),
                "input_tokens": .string(line.ledger.inputTokens.plainText),
                "output_tokens": .string(line.ledger.outputTokens.plainText),
                "cost_usd": .string(line.ledger.cost.plainText),
            ]
            if let month = line.key.month { object["month"] = .string(month) }
            if line.key.dimension != .total && line.key.dimension != .month { object["provider"] = line.key.provider.map(JSONValue.string) ?? .null }
            if line.key.dimension == .providerModel { object["model"] = line.key.model.map(JSONValue.string) ?? .null }
            return .object(object)
        }
        json = String(decoding: try JSONEncoder().encode(JSONValue.array(groups)), as: UTF8.self)
    }
}
