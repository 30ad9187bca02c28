// GET /api/v1/reports/spend: spend by time bucket and scope, as JSON or (Accept: text/csv) CSV.
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

struct ReportsController {
    let repository: ReportRepository

    func addRoutes(to group: RouterGroup<BudgetRequestContext>) {
        group.get("reports/spend") { request, context in
            let budgetID = try request.queryUUID("budget_id")
            var defaultZone = "UTC"
            if let budgetID, request.query("timezone") == nil {
                guard let scope = try await repository.budgetScope(budgetID, logger: context.logger) else {
                    throw APIError.notFound("no budget with id \(budgetID)")
                }
                defaultZone = scope.timeZone
            }
            let from = try request.queryInstant("from"), to = try request.queryInstant("to")
            let query = try Self.validated(from: from, to: to, bucket: request.query("bucket"), groupBy: request.query("group_by"),
                                           timeZone: request.query("timezone"), budgetID: budgetID, defaultZone: defaultZone)
            let report: SpendReport
            do {
                report = try await repository.spend(query, logger: context.logger)
            } catch let error as ReportError {
                switch error.code {
                case .unknownBudget: throw APIError.notFound(error.message)
                case .unknownZone: throw APIError.badRequest(error.message, field: "timezone")
                case .tooSlow: throw APIError(.serviceUnavailable, code: "report_timeout", message: error.message)
                default: throw APIError.unprocessable(error.message, code: "raw_data_dropped", field: "from")
                }
            }
            if Self.wantsCSV(request) {
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[HTTPField.Name("X-Report-Source")!] = report.source.rawValue
                let text = SpendCSV.render(report.rows, groupBy: query.groupBy)
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: SpendReportJSON.render(report))))
        }
    }

    static func validated(from: Date?, to: Date?, bucket: String?, groupBy: String?, timeZone: String?, budgetID: UUID?,
                          defaultZone: String) throws(APIError) -> SpendReportRequest {
        do {
            return try SpendReportRules.request(from: from, to: to, bucket: bucket, groupBy: groupBy, timeZone: timeZone,
                                                budgetID: budgetID, defaultZone: defaultZone)
        } catch {
            throw APIError.badRequest(error.message, field: error.field)
        }
    }

    /// CSV when the caller prefers it (`Accept: text/csv`); JSON otherwise.
    static func wantsCSV(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        return accept.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("text/csv") }
    }
}

/// The report's JSON, written directly: a report can hold tens of thousands of rows, and building
/// a JSONValue tree for Foundation's encoder took most of the answer's time (docs/PERFORMANCE.md).
/// Shape: {"from","to","bucket","timezone","group_by","budget_id","source","items":[…]}, with the
/// same escaping rules as any JSON encoder (RFC 8259).
enum SpendReportJSON {
    static func render(_ report: SpendReport) -> String {
        let query = report.request
        var out = "{\"from\":" + quoted(InstantFormat.string(query.from))
        out += ",\"to\":" + quoted(InstantFormat.string(query.to))
        out += ",\"bucket\":" + quoted(query.bucket.rawValue)
        out += ",\"timezone\":" + quoted(query.timeZone)
        out += ",\"group_by\":[" + query.groupBy.map { quoted($0.rawValue) }.joined(separator: ",") + "]"
        out += ",\"budget_id\":" + (query.budgetID.map { quoted($0.lowercasedText) } ?? "null")
        out += ",\"source\":" + quoted(report.source.rawValue)
        out += ",\"items\":["
        out.reserveCapacity(out.utf8.count + report.rows.count * (260 + 30 * query.groupBy.count))
        for (index, row) in report.rows.enumerated() {
            if index > 0 { out += "," }
            out += "{\"bucket\":" + quoted(InstantFormat.string(row.bucket))
            out += ",\"bucket_local\":" + quoted(row.bucketLocal)
            for (key, value) in zip(query.groupBy, row.groups) {
                out += ",\"" + key.rawValue + "\":" + (value.map(quoted) ?? "null")
            }
            out += ",\"input_tokens\":" + String(row.inputTokens)
            out += ",\"output_tokens\":" + String(row.outputTokens)
            out += ",\"cache_read_tokens\":" + String(row.cacheReadTokens)
            out += ",\"cache_write_tokens\":" + String(row.cacheWriteTokens)
            out += ",\"reasoning_tokens\":" + String(row.reasoningTokens)
            out += ",\"cost_usd\":" + quoted(row.costUSD.plainText)
            out += ",\"count\":" + String(row.count)
            out += ",\"unpriced_count\":" + String(row.unpricedCount) + "}"
        }
        return out + "]}"
    }

    /// A JSON string literal: quote, backslash and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
