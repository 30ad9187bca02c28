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
            return try JSONResponse.make(.ok, Self.json(report))
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

    static func json(_ report: SpendReport) -> JSONValue {
        let query = report.request
        let items: [JSONValue] = report.rows.map { row in
            var item: [String: JSONValue] = [
                "bucket": .string(InstantFormat.string(row.bucket)),
                "bucket_local": .string(row.bucketLocal),
                "input_tokens": .integer(row.inputTokens),
                "output_tokens": .integer(row.outputTokens),
                "cache_read_tokens": .integer(row.cacheReadTokens),
                "cache_write_tokens": .integer(row.cacheWriteTokens),
                "reasoning_tokens": .integer(row.reasoningTokens),
                "cost_usd": .string(row.costUSD.plainText),
                "count": .integer(row.count),
                "unpriced_count": .integer(row.unpricedCount),
            ]
            for (key, value) in zip(query.groupBy, row.groups) {
                item[key.rawValue] = value.map(JSONValue.string) ?? .null
            }
            return .object(item)
        }
        var body: [String: JSONValue] = [
            "from": .string(InstantFormat.string(query.from)),
            "to": .string(InstantFormat.string(query.to)),
            "bucket": .string(query.bucket.rawValue),
            "timezone": .string(query.timeZone),
            "group_by": .array(query.groupBy.map { .string($0.rawValue) }),
            "source": .string(report.source.rawValue),
            "items": .array(items),
        ]
        body["budget_id"] = query.budgetID.map { .string($0.uuidString.lowercased()) } ?? .null
        return .object(body)
    }
}
