// Spend reports and the ledger's upkeep for them: the rollups (sql/migrations/0011_rollups.sql)
// answer most reports; the raw ledger answers the hours that ranges or zones not on whole UTC
// hours cut, and whole reports for budgets whose limits filter by tag.
//
// The SQL text is assembled only from fixed fragments chosen by enum cases (bucket unit, group
// columns, source); every value from the request is a bound parameter.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

/// Why a report cannot be answered (beyond invalid input, which BudgetCore catches).
public struct ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let unknownBudget = Code(name: "unknown_budget")
        /// The raw ledger would be needed, but those rows were dropped for retention.
        public static let rawDataDropped = Code(name: "raw_data_dropped")
        /// PostgreSQL does not know the zone (its time zone data differs from Foundation's).
        public static let unknownZone = Code(name: "unknown_zone")
        /// The report's query ran past the repository's statement timeout and was stopped.
        public static let tooSlow = Code(name: "too_slow")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

public struct SpendReport: Sendable {
    /// What answered: the daily rollups (UTC days), the hourly rollups, the hourly rollups with the
    /// raw ledger for the hours a bucket boundary or the range's ends cut, or the raw ledger.
    public enum Source: String, Sendable {
        case dailyRollups = "daily_rollups"
        case rollups
        case rollupsAndLedger = "rollups_and_ledger"
        case ledger
    }
    public var request: SpendReportRequest
    public var source: Source
    public var rows: [SpendRow]
}

/// A partition of the ledger as `report.ledger_partitions` shows it.
public struct LedgerPartition: Sendable, Equatable {
    public var name: String
    public var rangeFrom: Date?
    public var rangeTo: Date?
    public var isDefault: Bool
    public var rowEstimate: Int64?
    public var totalSize: String
}

public struct ReportRepository: Sendable {
    let client: PostgresClient
    /// How long a report's query may run before PostgreSQL stops it (nil: no limit). The server
    /// passes its request deadline: a report still running after its caller got a 503 would only
    /// keep a backend busy.
    let statementTimeout: Duration?

    public init(client: PostgresClient, statementTimeout: Duration? = nil) {
        self.client = client
        self.statementTimeout = statementTimeout
    }

    /// The budget's zone and whether any of its current limits filters by tag; nil if there is no such budget.
    public func budgetScope(_ id: UUID, logger: Logger) async throws -> (timeZone: String, filtersByTag: Bool)? {
        let rows = try await client.collect("""
            SELECT b.timezone, EXISTS (SELECT 1 FROM limits l WHERE l.budget_id = b.id AND l.valid_to IS NULL AND l.tag IS NOT NULL)
            FROM budgets b WHERE b.id = \(id) AND b.deleted_at IS NULL
            """, logger: logger)
        for try await (zone, byTag) in rows.decode((String, Bool).self) { return (zone, byTag) }
        return nil
    }

    public func spend(_ request: SpendReportRequest, logger: Logger) async throws -> SpendReport {
        var useRollups = request.rollupsSuffice
        var rollupsForWholeHours = request.rollupsAnswerWholeHours
        if let budgetID = request.budgetID {
            guard let scope = try await budgetScope(budgetID, logger: logger) else {
                throw ReportError(.unknownBudget, "no budget with id \(budgetID)")
            }
            if scope.filtersByTag {   // tags are not in the rollups
                useRollups = false
                rollupsForWholeHours = false
            }
        }
        if !useRollups, let keptFrom = try await rawLedgerStart(logger: logger), request.from < keptFrom {
            throw ReportError(.rawDataDropped, """
                this report needs the raw ledger (range or zone not on whole UTC hours, or a budget whose limits filter by tag), \
                but raw rows before \(InstantFormat.string(keptFrom)) were dropped for retention; start at or after that, \
                with whole-hour bounds in a whole-hour zone, to use the rollups
                """)
        }
        let source: SpendReport.Source = useRollups ? (request.dailyRollupsSuffice ? .dailyRollups : .rollups)
            : rollupsForWholeHours ? .rollupsAndLedger : .ledger
        let rows: [SpendRow]
        do {
            rows = try await query(request, source: source, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "22023" {
            throw ReportError(.unknownZone, "the database does not know the time zone '\(request.timeZone)'")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "57014" {
            guard let statementTimeout else { throw error }
            throw ReportError(.tooSlow, """
                the report did not finish within \(statementTimeout.components.seconds) s (source \(source.rawValue)); \
                ask for a shorter range or a larger bucket
                """)
        }
        return SpendReport(request: request, source: source, rows: rows)
    }

    /// The end of the newest raw partition dropped for retention (raw rows before it are gone).
    func rawLedgerStart(logger: Logger) async throws -> Date? {
        let rows = try await client.collect("SELECT max(range_to) FROM ledger_dropped_partitions", logger: logger)
        for try await value in rows.decode(Date?.self) { return value }
        return nil
    }

    /// One aggregate per source table, regrouped by the outer query: each big table is scanned and
    /// aggregated directly (no row-by-row union), and the text of the buckets is made only for
    /// the final rows.
    private func query(_ request: SpendReportRequest, source: SpendReport.Source, logger: Logger) async throws -> [SpendRow] {
        // Fixed fragments only (see the file header).
        let unit = request.bucket.rawValue
        // For rollups_and_ledger: an hour starting at `hour` is whole when it lies inside the range
        // and inside one bucket. The rollups answer the whole hours and the ledger the others, by
        // the same test, so that each hour is counted once.
        func whole(_ hour: String) -> String {
            """
            \(hour) >= $1 AND \(hour) + interval '1 hour' <= $2
            AND date_trunc('\(unit)', \(hour) AT TIME ZONE $3::text) = date_trunc('\(unit)', (\(hour) + interval '1 hour' - interval '1 microsecond') AT TIME ZONE $3::text)
            """
        }
        // The cut hours (few: the range's ends and one a bucket boundary), each read from the
        // ledger by its time index. OFFSET 0 keeps the lateral read per hour: joined freely, the
        // planner sorted the whole range's rows for grouping first and tried each against every hour.
        var cutHours: String { """
            (SELECT g AS hour FROM generate_series(date_trunc('hour', $1::timestamptz, 'UTC'), $2::timestamptz - interval '1 microsecond', interval '1 hour') g
             WHERE NOT (\(whole("g")))) w
            CROSS JOIN LATERAL (SELECT * FROM usage_records r
                                WHERE r.occurred_at >= greatest(w.hour, $1) AND r.occurred_at < least(w.hour + interval '1 hour', $2) OFFSET 0) h
            """ }
        func part(table: String, time: String, ledger: Bool, only: String = "") -> String {
            let groups = ReportGroupKey.allCases.map { key in
                request.groupBy.contains(key) ? "h.\(ledger ? key.ledgerColumn : key.rollupColumn)" : "NULL::text"
            }
            let counts = ledger
                ? "count(*) AS n, count(*) FILTER (WHERE h.cost_usd IS NULL) AS un"
                : "sum(h.records) AS n, sum(h.unpriced_records) AS un"
            let budgetFilter = """
                AND ($4::uuid IS NULL OR EXISTS (
                    SELECT 1 FROM limits l WHERE l.budget_id = $4::uuid AND l.valid_to IS NULL
                      AND (l.component IS NULL OR l.component = h.component)
                      AND (l.provider IS NULL OR l.provider = h.\(ledger ? "provider_key" : "provider"))
                      AND (l.model IS NULL OR l.model = h.\(ledger ? "model_key" : "model"))
                      AND (l.task_type IS NULL OR l.task_type = h.task_type)
                      AND (l.tier IS NULL OR l.tier = h.tier)
                      AND \(ledger ? "(l.tag IS NULL OR l.tag = ANY (h.tags))" : "l.tag IS NULL")))
                """
            return """
                SELECT date_trunc('\(unit)', h.\(time) AT TIME ZONE $3::text) AS local, \(groups.joined(separator: ", ")),
                       sum(h.input_tokens) AS i, sum(h.output_tokens) AS o, sum(h.cache_read_tokens) AS cr,
                       sum(h.cache_write_tokens) AS cw, sum(h.reasoning_tokens) AS r, sum(h.cost_usd) AS c, \(counts)
                FROM \(table)
                WHERE h.\(time) >= $1 AND h.\(time) < $2 \(only) \(budgetFilter)
                GROUP BY 1, 2, 3, 4, 5, 6
                """
        }
        let parts: [String]
        switch source {
        case .ledger: parts = [part(table: "usage_records h", time: "occurred_at", ledger: true)]
        case .rollups: parts = [part(table: "usage_hourly h", time: "hour", ledger: false),
                                part(table: "usage_rollup_deltas h", time: "hour", ledger: false)]
        case .dailyRollups: parts = [part(table: "usage_daily h", time: "day", ledger: false),
                                     part(table: "usage_rollup_deltas h", time: "hour", ledger: false)]
        case .rollupsAndLedger: parts = [part(table: "usage_hourly h", time: "hour", ledger: false, only: "AND " + whole("h.hour")),
                                         part(table: "usage_rollup_deltas h", time: "hour", ledger: false, only: "AND " + whole("h.hour")),
                                         part(table: cutHours, time: "occurred_at", ledger: true)]
        }
        let sql = """
            SELECT x.local AT TIME ZONE $3::text, to_char(x.local, 'YYYY-MM-DD"T"HH24:MI'), x.component, x.provider, x.model, x.task_type, x.tier,
                   sum(x.i)::bigint, sum(x.o)::bigint, sum(x.cr)::bigint, sum(x.cw)::bigint, sum(x.r)::bigint,
                   trim_scale(coalesce(sum(x.c), 0))::text, sum(x.n)::bigint, sum(x.un)::bigint
            FROM (
            \(parts.joined(separator: "\nUNION ALL\n"))
            ) x (local, component, provider, model, task_type, tier, i, o, cr, cw, r, c, n, un)
            GROUP BY x.local, x.component, x.provider, x.model, x.task_type, x.tier
            HAVING sum(x.n) <> 0
            ORDER BY 1, 3, 4, 5, 6, 7
            """
        // $1 from, $2 to, $3 zone, $4 budget id.
        var binds = PostgresBindings()
        binds.append(request.from)
        binds.append(request.to)
        binds.append(request.timeZone)
        if let budgetID = request.budgetID { binds.append(budgetID) } else { binds.appendNull() }
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        // Settings for this query alone (fixed text; the timeout is the server's configuration).
        var settings: [String] = []
        if let statementTimeout {
            let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
            settings.append("SET LOCAL statement_timeout = \(max(1, milliseconds))")
        }
        if source == .rollupsAndLedger {
            // The planner takes the cut hours for a thousand rows each reading an hour of the
            // ledger, and would JIT-compile the query for about a second; it reads a few thousand.
            settings.append("SET LOCAL jit = off")
        }
        let rows: CollectedRows
        if settings.isEmpty {
            rows = try await client.collect(query, logger: logger)
        } else {
            // The query's own failure (a zone PostgreSQL does not know, the timeout) comes as it
            // would without a transaction.
            rows = try await client.withLiveTransaction(logger: logger) { connection in
                for setting in settings { try await connection.query(PostgresQuery(unsafeSQL: setting), logger: logger) }
                var collected: [PostgresRow] = []
                for try await row in try await connection.query(query, logger: logger) { collected.append(row) }
                return CollectedRows(rows: collected)
            }
        }
        let order = ReportGroupKey.allCases
        var result: [SpendRow] = []
        for try await row in rows.decode((Date, String, String?, String?, String?, String?, String?,
                                          Int64, Int64, Int64, Int64, Int64, String, Int64, Int64).self) {
            let all = [row.2, row.3, row.4, row.5, row.6]
            guard let cost = Decimal(exactly: row.12) else { throw StoreError(.corrupt, "cost '\(row.12)' is not a decimal") }
            result.append(SpendRow(
                bucket: row.0, bucketLocal: row.1,
                groups: request.groupBy.map { key in all[order.firstIndex(of: key)!] },
                inputTokens: row.7, outputTokens: row.8, cacheReadTokens: row.9, cacheWriteTokens: row.10, reasoningTokens: row.11,
                costUSD: cost, count: row.13, unpricedCount: row.14))
        }
        return result
    }

    // Upkeep ---------------------------------------------------------------------------------

    /// Moves the rollup deltas into usage_hourly; returns how many deltas were folded.
    @discardableResult
    public func foldRollups(logger: Logger) async throws -> Int64 {
        let rows = try await client.collect("SELECT usage_rollup_fold()", logger: logger)
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }

    /// Gives rows waiting in the default partition their month's partition (up to `monthsAhead`).
    public func settleDefaultPartition(monthsAhead: Int, logger: Logger) async throws -> [String] {
        var names: [String] = []
        let rows = try await client.collect("SELECT usage_partitions_settle(\(monthsAhead)::integer)", logger: logger)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    /// Drops raw monthly partitions older than `keepMonths` months (rollups keep their usage).
    public func dropRawPartitions(keepMonths: Int, logger: Logger) async throws -> [String] {
        var names: [String] = []
        let rows = try await client.collect("SELECT usage_drop_raw_partitions(\(keepMonths)::integer)", logger: logger)
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    public func partitions(logger: Logger) async throws -> [LedgerPartition] {
        var result: [LedgerPartition] = []
        let rows = try await client.collect("""
            SELECT partition, range_from, range_to, is_default, row_estimate, total_size
            FROM report.ledger_partitions ORDER BY is_default DESC, range_from
            """, logger: logger)
        for try await (name, from, to, isDefault, estimate, size) in rows.decode((String, Date?, Date?, Bool, Int64?, String).self) {
            result.append(LedgerPartition(name: name, rangeFrom: from, rangeTo: to, isDefault: isDefault, rowEstimate: estimate, totalSize: size))
        }
        return result
    }
}
