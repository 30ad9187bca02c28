// /api/v1/usage (record, batch, list) and /api/v1/status
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

struct UsageController {
    let engine: BudgetEngine
    static let maxBatch = 10_000

    func addRoutes(to group: RouterGroup<BudgetRequestContext>) {
        group.post("usage") { request, context in
            try await recordOne(try await request.decodeBody(UsageRecordBody.self, context: context), headers: request.headers, logger: context.logger)
        }
        group.post("usage/batch") { request, context in
            let body = try await request.decodeBody(BatchBody.self, context: context)
            guard let bodies = body.value.records, !bodies.isEmpty else {
                throw APIError.badRequest("records must hold 1 to \(Self.maxBatch) usage records", field: "records")
            }
            guard bodies.count <= Self.maxBatch else {
                throw APIError.badRequest("a batch holds at most \(Self.maxBatch) records (got \(bodies.count))", field: "records")
            }
            let inputs = try bodies.enumerated().map { index, record in try record.input(field: "records[\(index)]") }
            let result = try await record(inputs, key: try request.idempotencyKey(), hash: body.hash, logger: context.logger)
            return try JSONResponse.make(.created, JSONValue.object([
                "count": .integer(Int64(result.records.count)), "items": .array(result.records.map(Views.record)),
            ]), headers: replayHeader(result.replayed))
        }
        group.get("usage") { request, context in
            var query = UsageQuery(from: try request.queryInstant("from"), to: try request.queryInstant("to"),
                                   component: request.query("component"), provider: request.query("provider"), model: request.query("model"),
                                   limit: try pageSize(request) + 1)
            if let cursor = request.query("cursor") {
                let parts = try Cursor.parse(cursor, parts: 2)
                guard let at = Int64(parts[0]), let id = UUID(text: parts[1]) else {
                    throw APIError.badRequest("cursor is not valid", field: "cursor")
                }
                query.after = (at, id)
            }
            let records = try await engine.store.usage(query, logger: context.logger)
            let page = Array(records.prefix(query.limit - 1))
            let next = records.count >= query.limit ? page.last.map { Cursor.make([String($0.position), $0.record.id.uuidString]) } : nil
            return try JSONResponse.make(.ok, Page(items: page.map { Views.record($0.record) }, nextCursor: next))
        }
        group.get("status") { request, context in
            let query = Scope(component: request.query("component"), provider: request.query("provider"), model: request.query("model"),
                              taskType: request.query("task_type"), tier: request.query("tier"),
                              tags: request.query("tag").map { [$0] } ?? [],
                              sessionID: request.query("session_id"), taskID: request.query("task_id"))
            let states = try await engine.status(query: query, budgetID: try request.queryUUID("budget_id"), logger: context.logger)
            return try JSONResponse.make(.ok, JSONValue.object(["items": .array(states.map(Views.limitState))]))
        }
    }

    /// POST /api/v1/usage. Also answered outside the router, on the connection's event loop (HotPathHandler).
    func recordOne(_ body: RequestBody<UsageRecordBody>, headers: HTTPFields, logger: Logger) async throws -> Response {
        let input = try body.value.input(field: "")
        let records = try await record([input], key: try headers.idempotencyKey(), hash: body.hash, logger: logger)
        return try JSONResponse.make(.created, Views.record(records.records[0]), headers: replayHeader(records.replayed))
    }

    private func record(_ inputs: [BudgetEngine.UsageInput], key: String?, hash: String, logger: Logger) async throws -> (records: [LedgerRecord], replayed: Bool) {
        switch try await engine.record(inputs, idempotencyKey: key, requestHash: hash, logger: logger) {
        case .recorded(let records, let replayed):
            return (records, replayed)
        case .idempotencyConflict:
            throw APIError.conflict("Idempotency-Key was already used with a different request", code: "idempotency_conflict")
        case .stale:
            throw APIError.databaseUnavailable("the limit catalog kept changing; retry")
        }
    }
}
