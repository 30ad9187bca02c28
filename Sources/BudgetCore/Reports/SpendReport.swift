// The spend report's request and rows, and its rules (bucket sizes, group keys, ranges, zones):
// pure values, no I/O. The store turns a validated request into SQL from fixed fragments only.
import Foundation

/// The size of a report bucket, in the report's time zone (weeks start on Monday, ISO).
public enum ReportBucket: String, CaseIterable, Sendable {
    case hour, day, week, month

    /// The longest range a report may cover with this bucket (so an answer stays a few thousand
    /// rows per group at most).
    public var maxRange: TimeInterval {
        switch self {
        case .hour: return 31 * 86_400
        case .day: return 3_660 * 86_400
        case .week, .month: return 36_600 * 86_400
        }
    }

    public var maxRangeText: String {
        switch self {
        case .hour: return "31 days"
        case .day: return "3,660 days"
        case .week, .month: return "100 years"
        }
    }
}

/// A dimension a report may group by. The SQL column of each is fixed here, never taken from input.
public enum ReportGroupKey: String, CaseIterable, Sendable {
    case component, provider, model
    case taskType = "task_type"
    case tier

    /// The column in the rollups and in the ledger (provider and model are the matching keys).
    public var rollupColumn: String { rawValue }
    public var ledgerColumn: String {
        switch self {
        case .provider: return "provider_key"
        case .model: return "model_key"
        default: return rawValue
        }
    }
}

public struct SpendReportRequest: Sendable, Equatable {
    public var from: Date
    public var to: Date
    public var bucket: ReportBucket
    public var groupBy: [ReportGroupKey]
    /// An IANA zone identifier, validated.
    public var timeZone: String
    public var budgetID: UUID?

    public init(from: Date, to: Date, bucket: ReportBucket, groupBy: [ReportGroupKey], timeZone: String, budgetID: UUID?) {
        self.from = from
        self.to = to
        self.bucket = bucket
        self.groupBy = groupBy
        self.timeZone = timeZone
        self.budgetID = budgetID
    }

    /// True when the hourly rollups answer the request exactly: the range is made of whole UTC
    /// hours and every bucket boundary in the zone over the range is a whole UTC hour (the zone's
    /// offset is a whole number of hours throughout). Otherwise the raw ledger answers.
    public var rollupsSuffice: Bool {
        guard SpendReportRules.isWholeUTCHour(from), SpendReportRules.isWholeUTCHour(to),
              let zone = TimeZone(identifier: timeZone) else { return false }
        return SpendReportRules.hasWholeHourOffsets(zone, from: from, to: to)
    }

    /// True when the hourly rollups can answer every UTC hour that lies whole inside the range and
    /// inside one bucket, and the raw ledger only the hours cut by the range's ends or by a bucket
    /// boundary: a zone whose offset is a whole number of hours throughout (only the range's ends
    /// cut hours), or buckets of a day or more (a zone such as Asia/Kolkata, +05:30, cuts one hour
    /// a day). Hourly buckets in such a zone cut every hour, and read the ledger alone.
    public var rollupsAnswerWholeHours: Bool {
        guard let zone = TimeZone(identifier: timeZone) else { return false }
        return bucket != .hour || SpendReportRules.hasWholeHourOffsets(zone, from: from, to: to)
    }

    /// True when the daily rollups (UTC days) answer exactly: buckets of a day or more, bounds at
    /// UTC midnight, and a zone at UTC+0 throughout the range (a local day is then a UTC day).
    public var dailyRollupsSuffice: Bool {
        guard bucket != .hour, SpendReportRules.isUTCMidnight(from), SpendReportRules.isUTCMidnight(to),
              let zone = TimeZone(identifier: timeZone) else { return false }
        return SpendReportRules.offsets(of: zone, from: from, to: to, allSatisfy: { $0 == 0 })
    }
}

/// Why a report request is refused: the query parameter and a message for the caller.
public struct ReportRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

public enum SpendReportRules {
    /// Parses and checks the query parameters as they arrive (nil = absent). `defaultZone` is the
    /// budget's zone when a budget is named, else UTC.
    public static func request(from: Date?, to: Date?, bucket: String?, groupBy: String?, timeZone: String?,
                               budgetID: UUID?, defaultZone: String = "UTC") throws(ReportRequestError) -> SpendReportRequest {
        guard let from else { throw ReportRequestError(field: "from", message: "from is required (ISO 8601, e.g. 2026-11-01T00:00:00Z)") }
        guard let to else { throw ReportRequestError(field: "to", message: "to is required (ISO 8601, e.g. 2026-12-01T00:00:00Z)") }
        guard from < to else { throw ReportRequestError(field: "from", message: "from must be before to") }
        let bucketValue = try parseBucket(bucket)
        guard to.timeIntervalSince(from) <= bucketValue.maxRange else {
            throw ReportRequestError(field: "to", message: "a report by \(bucketValue.rawValue) covers at most \(bucketValue.maxRangeText); use a larger bucket or a shorter range")
        }
        let zone = timeZone ?? defaultZone
        guard isKnownZone(zone) else {
            throw ReportRequestError(field: "timezone", message: "timezone '\(zone)' is not an IANA time zone (e.g. UTC, Europe/Berlin)")
        }
        return SpendReportRequest(from: from, to: to, bucket: bucketValue, groupBy: try parseGroupBy(groupBy), timeZone: zone, budgetID: budgetID)
    }

    public static func parseBucket(_ text: String?) throws(ReportRequestError) -> ReportBucket {
        guard let text else { return .day }
        guard let bucket = ReportBucket(rawValue: text.lowercased()) else {
            throw ReportRequestError(field: "bucket", message: "bucket must be one of hour, day, week, month (got '\(text)')")
        }
        return bucket
    }

    /// Comma-separated keys, in the order given; repeats are refused.
    public static func parseGroupBy(_ text: String?) throws(ReportRequestError) -> [ReportGroupKey] {
        guard let text, !text.isEmpty else { return [] }
        var keys: [ReportGroupKey] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let key = ReportGroupKey(rawValue: name) else {
                let allowed = ReportGroupKey.allCases.map(\.rawValue).joined(separator: ", ")
                throw ReportRequestError(field: "group_by", message: "group_by key '\(name)' is unknown; use any of \(allowed)")
            }
            guard !keys.contains(key) else {
                throw ReportRequestError(field: "group_by", message: "group_by names '\(name)' twice")
            }
            keys.append(key)
        }
        return keys
    }

    /// IANA Area/Location names (and UTC) only: not abbreviations such as "EST" or offsets such as
    /// "GMT+5", which Foundation and PostgreSQL read differently (POSIX signs are inverted).
    public static func isKnownZone(_ identifier: String) -> Bool {
        guard identifier == "UTC" || identifier.contains("/") else { return false }
        return TimeZone(identifier: identifier) != nil
    }

    public static func isWholeUTCHour(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        return seconds == seconds.rounded(.down) && Int64(seconds) % 3600 == 0
    }

    public static func isUTCMidnight(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        return seconds == seconds.rounded(.down) && Int64(seconds) % 86_400 == 0
    }

    /// Whether the zone's UTC offset is a whole number of hours at `from` and after every
    /// transition up to `to`.
    public static func hasWholeHourOffsets(_ zone: TimeZone, from: Date, to: Date) -> Bool {
        offsets(of: zone, from: from, to: to, allSatisfy: { $0 % 3600 == 0 })
    }

    /// Whether the zone's UTC offset (seconds) at `from` and after every transition up to `to` passes `test`.
    public static func offsets(of zone: TimeZone, from: Date, to: Date, allSatisfy test: (Int) -> Bool) -> Bool {
        var instant = from
        for _ in 0..<10_000 {
            guard test(zone.secondsFromGMT(for: instant)) else { return false }
            guard let next = zone.nextDaylightSavingTimeTransition(after: instant), next < to else { return true }
            instant = next
        }
        return true
    }
}

/// One row of the spend report: a bucket, the values of the group keys (in the request's order;
/// nil = unknown in the ledger), token sums by kind, the known cost and counts.
public struct SpendRow: Sendable, Equatable {
    public var bucket: Date
    /// The bucket's start as local time in the report's zone, e.g. "2026-11-21T00:00".
    public var bucketLocal: String
    public var groups: [String?]
    public var inputTokens: Int64
    public var outputTokens: Int64
    public var cacheReadTokens: Int64
    public var cacheWriteTokens: Int64
    public var reasoningTokens: Int64
    public var costUSD: Decimal
    public var count: Int64
    public var unpricedCount: Int64

    public init(bucket: Date, bucketLocal: String, groups: [String?], inputTokens: Int64, outputTokens: Int64, cacheReadTokens: Int64,
                cacheWriteTokens: Int64, reasoningTokens: Int64, costUSD: Decimal, count: Int64, unpricedCount: Int64) {
        self.bucket = bucket
        self.bucketLocal = bucketLocal
        self.groups = groups
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.costUSD = costUSD
        self.count = count
        self.unpricedCount = unpricedCount
    }
}

/// CSV (RFC 4180) of report rows with a header row; empty cells for unknown group values.
public enum SpendCSV {
    public static func header(groupBy: [ReportGroupKey]) -> [String] {
        ["bucket", "bucket_local"] + groupBy.map(\.rawValue) + [
            "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
            "cost_usd", "count", "unpriced_count",
        ]
    }

    public static func render(_ rows: [SpendRow], groupBy: [ReportGroupKey]) -> String {
        var lines = [header(groupBy: groupBy).map(field).joined(separator: ",")]
        for row in rows {
            let cells = [InstantFormat.string(row.bucket), row.bucketLocal] + row.groups.map { inert($0 ?? "") } + [
                String(row.inputTokens), String(row.outputTokens), String(row.cacheReadTokens), String(row.cacheWriteTokens),
                String(row.reasoningTokens), row.costUSD.plainText, String(row.count), String(row.unpricedCount),
            ]
            lines.append(cells.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Group values are callers' text (components, models, tags). One that a spreadsheet would
    /// evaluate as a formula (first character =, +, -, @, tab or carriage return) gets a leading
    /// apostrophe, as OWASP advises against CSV injection. Times and numbers are Budget's own and
    /// are written as they are.
    static func inert(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
