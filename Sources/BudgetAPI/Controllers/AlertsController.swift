// /api/v1/alerts: the stored alerts (list, filter, acknowledge) and the live stream of alerts
// raised by any Budget instance (Server-Sent Events).
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

struct AlertsController {
    let repository: AlertRepository
    /// Nil when this instance does not stream alerts (BUDGET_ALERT_STREAM=off).
    let hub: AlertHub?

    /// `type` (one or several, comma-separated), `budget_id`, `limit_id`, `acknowledged`, `since`.
    static func filter(_ request: Request) throws -> AlertFilter {
        var filter = AlertFilter()
        if let text = request.query("type") {
            filter.types = try text.split(separator: ",").map { try parseEnum(String($0).trimmingWhitespace(), AlertType.self, field: "type") }
        }
        filter.budgetID = try request.queryUUID("budget_id")
        filter.limitID = try request.queryUUID("limit_id")
        if let text = request.query("acknowledged") {
            switch text {
            case "true": filter.acknowledged = true
            case "false": filter.acknowledged = false
            default: throw APIError.badRequest("acknowledged must be true or false", field: "acknowledged")
            }
        }
        filter.since = try request.queryInstant("since")
        return filter
    }

    static func alertID(_ context: BudgetRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.notFound("'\(context.parameters.get("id") ?? "")' is not a valid alert id")
        }
        return id
    }

    /// `Last-Event-ID` (sent by EventSource clients on reconnect), or `?last_event_id=`.
    static func lastEventID(_ request: Request) throws -> Int64? {
        let header = request.headers[HTTPField.Name("Last-Event-ID")!]?.trimmingWhitespace()
        guard let text = (header?.isEmpty == false ? header : nil) ?? request.query("last_event_id") else { return nil }
        guard let id = Int64(text), id >= 0 else { throw APIError.badRequest("Last-Event-ID must be an alert id", field: "Last-Event-ID") }
        return id
    }

    /// One SSE message: `id:`, `event:` (the alert type) and `data:` (the alert JSON, one line).
    static func message(_ alert: Alert) throws -> ByteBuffer {
        let json = String(decoding: try BudgetJSON.encoder.encode(AlertViews.alert(alert)), as: UTF8.self)
        return ByteBuffer(string: "id: \(alert.id)\nevent: \(alert.type.rawValue)\ndata: \(json)\n\n")
    }

    func addRoutes(to group: RouterGroup<BudgetRequestContext>) {
        group.get("alerts") { request, context in
            let filter = try Self.filter(request)
            let size = try pageSize(request)
            var before: Int64?
            if let cursor = request.query("cursor") {
                let parts = try Cursor.parse(cursor, parts: 1)
                guard let id = Int64(parts[0]) else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
                before = id
            }
            let alerts = try await repository.list(filter, before: before, limit: size + 1, logger: context.logger)
            let page = Array(alerts.prefix(size))
            let next = alerts.count > size ? page.last.map { Cursor.make([String($0.id)]) } : nil
            return try JSONResponse.make(.ok, Page(items: page.map(AlertViews.alert), nextCursor: next))
        }
        group.get("alerts/stream") { request, context in
            try stream(request, context)
        }
        group.get("alerts/:id") { _, context in
            let id = try Self.alertID(context)
            guard let alert = try await repository.get(id, logger: context.logger) else { throw APIError.notFound("no alert \(id)") }
            return try JSONResponse.make(.ok, AlertViews.alert(alert))
        }
        group.post("alerts/:id/ack") { request, context in
            let id = try Self.alertID(context)
            guard let alert = try await repository.acknowledge(id, by: request.actor, logger: context.logger) else {
                throw APIError.notFound("no alert \(id)")
            }
            return try JSONResponse.make(.ok, AlertViews.alert(alert))
        }
    }

    /// `GET /api/v1/alerts/stream[?type&budget_id&limit_id]`: alerts as they are raised, by any
    /// instance; with Last-Event-ID, first the stored alerts after that id.
    func stream(_ request: Request, _ context: BudgetRequestContext) throws -> Response {
        guard let hub else {
            throw APIError(.serviceUnavailable, code: "alert_stream_off",
                           message: "this instance does not stream alerts (BUDGET_ALERT_STREAM=off); use another instance, or GET /api/v1/alerts")
        }
        var filter = try Self.filter(request)
        filter.acknowledged = nil
        filter.since = nil
        let resumeAfter = try Self.lastEventID(request)
        let repository = self.repository
        let logger = context.logger
        let streamFilter = filter
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let body = ResponseBody { writer in
            let (events, continuation) = AsyncStream<AlertStreamEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
            // Subscribed before the replay, so nothing raised in between is missed (duplicates are skipped).
            let subscription = await hub.subscribe(streamFilter, continuation: continuation)
            do {
                try await withGracefulShutdownHandler {
                    try await writer.write(ByteBuffer(string: ": budget alerts\nretry: 3000\n\n"))
                    var replayed = Set<Int64>()
                    if var cursor = resumeAfter {
                        while true {
                            let batch = try await repository.after(cursor, limit: 500, logger: logger)
                            for alert in batch where streamFilter.matches(alert) {
                                try await writer.write(try Self.message(alert))
                                replayed.insert(alert.id)
                            }
                            guard batch.count == 500, let last = batch.last else { break }
                            cursor = last.id
                        }
                    }
                    for await event in events {
                        switch event {
                        case .alert(let alert):
                            if replayed.contains(alert.id) { continue }
                            try await writer.write(try Self.message(alert))
                        case .heartbeat:
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        }
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
            } catch {
                // Most often the client went away (the write failed): nothing to answer any more.
                logger.debug("alert stream ended", metadata: ["error": "\(String(reflecting: error))"])
                await hub.unsubscribe(subscription)
                return
            }
            await hub.unsubscribe(subscription)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
