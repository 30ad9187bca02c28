// /api/v1/budgets/{id}/resets: start a budget's time windows again now (audited, append-only),
// and list the resets. The windows are not emptied: a reset moves their start, so spend before it
// stays in the ledger and in reports but no longer counts against the limits (0009_window_resets.sql).
import BudgetCore
import BudgetStore
import Foundation
import Hummingbird

struct WindowResetsController {
    let resets: WindowResetRepository
    let budgets: BudgetRepository
    let limits: LimitRepository
    let catalog: CatalogCache
    let idempotency: IdempotentResponses

    struct CreateBody: Decodable {
        var period: String?
        var limitID: UUID?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case period
            case limitID = "limit_id"
            case reason
        }
    }

    /// What a reset starts again: every limit of one time period in the budget, or one limit.
    enum Target {
        case period(Period)
        case limit(UUID)

        init(_ body: CreateBody) throws {
            switch (body.period, body.limitID) {
            case (let raw?, nil):
                guard let period = Period(rawValue: raw), period.isTimePeriod else {
                    throw APIError.badRequest("period must be hourly, daily, weekly or monthly (session and task windows are not reset)", field: "period")
                }
                self = .period(period)
            case (nil, let id?):
                self = .limit(id)
            case (nil, nil):
                throw APIError.badRequest("name a period (hourly, daily, weekly, monthly) or a limit_id", field: "period")
            case (_?, _?):
                throw APIError.badRequest("give a period or a limit_id, not both", field: "limit_id")
            }
        }
    }

    /// Routes that change something other than spend go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let group = routes.api, admin = routes.administration
        admin.post("budgets/:id/resets") { request, context in
            let budgetID = try context.parameters.uuid("id")
            let body = try await request.decodeBody(CreateBody.self, context: context)
            let target = try Target(body.value)
            let reason = body.value.reason
            if let reason, reason.count > 500 { throw APIError.badRequest("reason must be at most 500 characters", field: "reason") }
            return try await idempotency.respond(operation: "budgets.reset:\(budgetID)", request: request, hash: body.hash, logger: context.logger) {
                guard try await budgets.find(budgetID, logger: context.logger) != nil else { throw APIError.notFound("no budget \(budgetID)") }
                var period: Period?, limitID: UUID?
                switch target {
                case .period(let chosen):
                    period = chosen
                case .limit(let id):
                    guard let limit = try await limits.current(id, logger: context.logger), limit.budgetID == budgetID else {
                        throw APIError.notFound("no limit \(id) in budget \(budgetID)")
                    }
                    guard limit.period.isTimePeriod else {
                        throw APIError.unprocessable("a \(limit.period.rawValue) limit has no time window to reset (its windows are keyed by the caller's id)",
                                                    code: "not_resettable", field: "limit_id")
                    }
                    limitID = id
                }
                let reset = try await translate {
                    try await resets.reset(budgetID: budgetID, period: period, limitID: limitID, by: request.actor, reason: reason, logger: context.logger)
                }
                catalog.invalidate()
                return (.created, Views.windowReset(reset))
            }
        }
        group.get("budgets/:id/resets") { request, context in
            let budgetID = try context.parameters.uuid("id")
            guard try await budgets.find(budgetID, logger: context.logger) != nil else { throw APIError.notFound("no budget \(budgetID)") }
            let limit = try pageSize(request)
            var before: (Date, UUID)?
            if let cursor = request.query("cursor") {
                let parts = try Cursor.parse(cursor, parts: 2)
                guard let at = InstantFormat.parse(parts[0]), let id = UUID(text: parts[1]) else {
                    throw APIError.badRequest("cursor is not valid", field: "cursor")
                }
                before = (at, id)
            }
            let found = try await resets.list(budgetID: budgetID, before: before, limit: limit + 1, logger: context.logger)
            let page = Array(found.prefix(limit))
            let next = found.count > limit ? page.last.map { Cursor.make([InstantFormat.string($0.resetAt), $0.id.lowercasedText]) } : nil
            return try JSONResponse.make(.ok, Page(items: page.map(Views.windowReset), nextCursor: next))
        }
    }
}
