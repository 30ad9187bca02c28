// `budget import rhetor FILE.db`: Rhetor's budget database into Budget, reconciled before it
// commits. Talks to the database directly (BUDGET_DATABASE_URL or the private PostgreSQL).
import ArgumentParser
import BudgetAPI
import BudgetCore
import BudgetImport
import BudgetStore
import Foundation
import Logging
import PostgresNIO
import Synchronization

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring data over from the systems Budget replaces.",
        subcommands: [ImportRhetorCommand.self, ImportApolloPoliciesCommand.self]
    )
}

struct ImportRhetorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rhetor",
        abstract: "Import Rhetor's SQLite budget database (usage ledger and budget settings).",
        discussion: """
            Every usage row becomes a ledger row (origin rhetor_import), with its Rhetor id, its cost exactly as \
            Rhetor stored it, and pricing_status unpriced where Rhetor charged $0 for a model it did not know. \
            Budget settings become limit versions of the budget --budget ('all' = a global limit, which Budget \
            enforces; limit 0 = no limit). Everything happens in one transaction, which commits only if the \
            ledger reproduces the file's row counts, token sums and costs in total, per provider, per month, \
            per provider+model and per month+provider. Importing the same file again changes nothing; a newer \
            export of the same database adds only its new rows.
            """
    )

    @Argument(help: "Rhetor's database file (rhetor.db).") var file: String
    @Option(help: "IANA zone Rhetor's naive local timestamps are read in.") var timezone = "UTC"
    @Option(help: "Budget that receives Rhetor's limits (created if missing).") var budget = "rhetor"
    @Option(help: "Name of this Rhetor database; Rhetor ids are unique within a source.") var source = "rhetor"
    @Flag(help: "Reconcile and print, then roll back: nothing is written.") var dryRun = false
    @Flag(help: "List every provider+model and month+provider group too.") var verbose = false

    func run() async throws {
        let context = try CommandContext.make()
        let migrations = try context.migrations()
        let scripts = try ImportScripts.rhetor(sqlDirectory: SQLDirectory.locate(override: context.configuration.sqlDirectory))
        let options = RhetorImportOptions(source: source, timezone: timezone, budgetName: budget, dryRun: dryRun)
        let bar = ProgressBar()
        let (file, logger) = (self.file, context.logger)
        let (report, priced) = try await context.withDatabase { endpoint in
            _ = try await MigrationRunner(migrations: migrations, logger: logger).run(on: endpoint)
            return try await context.withClient(endpoint) { client in
                let report: RhetorImportReport
                do {
                    defer { bar.finish() }
                    report = try await RhetorImporter(client: client, scripts: scripts, logger: logger)
                        .run(file: file, options: options) { bar.update($0) }
                }
                // Rows Rhetor could not price whose model Budget has a price for are priced now,
                // as a running server would do at its next price change.
                guard report.outcome == .imported, report.unpricedRowsAdded > 0 else { return (report, RepriceReport?.none) }
                let engine = BudgetEngine(client: client, logger: logger, naming: .canonicalNames)
                return (report, try await engine.repriceUnpriced(logger: logger))
            }
        }
        print(Self.render(report, priced: priced, verbose: verbose))
    }

    static func render(_ report: RhetorImportReport, priced: RepriceReport? = nil, verbose: Bool) -> String {
        var out: [String] = []
        out.append("Rhetor database \(report.file) (sha256 \(report.sha256.prefix(12))…): source \"\(report.source)\", timestamps read in \(report.timezone), limits into budget \"\(report.budgetName)\".")
        out.append("")
        out.append("Reconciliation (file: the SQLite rows; ledger: Budget's rows from this source; costs as Rhetor stored them):")
        var table = TextTable(["group", "rows", "input tokens", "output tokens", "cost USD", ""])
        func add(_ lines: [ReconciliationLine], indent: String) {
            for line in lines {
                table.append([indent + line.key.label, String(line.ledger.rows), line.ledger.inputTokens.plainText,
                              line.ledger.outputTokens.plainText, line.ledger.cost.plainText, line.matches ? "ok" : "DIFFERS"])
            }
        }
        let r = report.reconciliation
        add(r.lines(.total), indent: "")
        for (dimension, title) in [(ReconciliationKey.Dimension.provider, "per provider"), (.month, "per month"),
                                   (.providerModel, "per provider+model"), (.monthProvider, "per month+provider")] {
            let lines = r.lines(dimension)
            let differing = lines.filter { !$0.matches }
            if verbose || dimension == .provider || dimension == .month || !differing.isEmpty {
                table.append([title, "", "", "", "", ""])
                add(verbose ? lines : (dimension == .provider || dimension == .month ? lines : differing), indent: "  ")
            } else {
                table.append(["\(title): \(lines.count) groups, all equal", "", "", "", "", ""])
            }
        }
        out.append(table.render().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        out.append("")
        switch report.outcome {
        case .imported:
            out.append("Imported \(report.rowsAdded) new usage row(s) (\(report.rowsBefore) were there from earlier imports) and \(report.limitVersionsAdded) limit version(s) from \(report.settingsChanged) new or changed setting(s); import run \(report.runID.map(String.init) ?? "-").")
        case .unchanged:
            out.append("Nothing to do: every row and setting of this file was imported before (\(report.rowsBefore) rows). Nothing was changed.")
        case .dryRun:
            out.append("Dry run: would import \(report.rowsAdded) new usage row(s) and \(report.limitVersionsAdded) limit version(s). Nothing was written.")
        }
        if report.unpricedRowsAdded > 0 {
            out.append("\(report.unpricedRowsAdded) row(s) came unpriced (Rhetor charged $0 for models it did not know).")
            if let priced, priced.repriced > 0 {
                out.append("  Priced now with Budget's current prices, and counted in their dollar limits: \(priced.repriced) unpriced row(s) of the ledger, \(priced.totalCost.plainText) USD:")
                for line in priced.lines { out.append("    \(line.provider)/\(line.model): \(line.records) row(s), \(line.cost.plainText) USD") }
            }
            out.append("  `budget serve` prices the rest once their model has a price (rows without a model stay unpriced).")
        }
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let phases = report.phases.map { $0.phase.rawValue + String(format: " %.1f s", seconds($0.duration)) }.joined(separator: ", ")
        out.append(String(format: "%d rows in %.2f s (%.0f rows/min): ", report.rowsInFile, seconds(report.duration), report.rowsPerMinute) + phases + ".")
        return out.joined(separator: "\n")
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw = ContinuousClock.now - .seconds(1)
        var drawn = false
    }
    private let state = Mutex(State())
    private let enabled = isatty(STDERR_FILENO) == 1

    func update(_ progress: ImportProgress) {
        guard enabled else { return }
        state.withLock { state in
            let now = ContinuousClock.now
            guard now - state.lastDraw > .milliseconds(100) || progress.done == progress.total else { return }
            state.lastDraw = now
            state.drawn = true
            let fraction = progress.total > 0 ? min(1, Double(progress.done) / Double(progress.total)) : 0
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let counts = progress.phase == .copying ? " \(progress.done)/\(progress.total) rows" : ""
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(Int(fraction * 100))% \(progress.phase.rawValue)\(counts)".utf8))
        }
    }

    func finish() {
        guard enabled else { return }
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
