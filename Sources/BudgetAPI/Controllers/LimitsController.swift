// /api/v1/budgets/{id}/limits and /api/v1/limits/{id}
import BudgetCore
import BudgetStore
import Foundation
import Hummingbird

struct LimitsController {
    let repository: LimitRepository
    let catalog: CatalogCache
    let idempotency: IdempotentResponses

    struct FilterBody: Decodable {
        var component: String?
        var provider: String?
        var model: String?
        var taskType: String?
        var tier: String?
        var tag: String?
        enum CodingKeys: String, CodingKey { case component, provider, model, tier, tag, taskType = "task_type" }
    }

    struct CreateBody: Decodable {
        var scope: FilterBody?
        var period: String?
        var metric: String?
        var amount: DecimalInput?
        var policy: String?
        var warnAt: FractionInput?
        var thresholds: [FractionInput]?
        enum CodingKeys: String, CodingKey { case scope, period, metric, amount, policy, thresholds, warnAt = "warn_at" }
    }

    struct PatchBody: Decodable {
        var amount: DecimalInput?
        var policy: String?
        var warnAt: FractionInput?
        /// Absent: unchanged; null: warn_at only.
        var thresholds: Patch<[FractionInput]>
        /// What a limit counts never changes; these are refused with a clear message.
        var immutable: [String]
        enum CodingKeys: String, CodingKey { case amount, policy, thresholds, warnAt = "warn_at", scope, period, metric }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            amount = try container.decodeIfPresent(DecimalInput.self, forKey: .amount)
            policy = try container.decodeIfPresent(String.self, forKey: .policy)
            warnAt = try container.decodeIfPresent(FractionInput.self, forKey: .warnAt)
            thresholds = try container.decodePatch([FractionInput].self, forKey: .thresholds)
            immutable = [CodingKeys.scope, .period, .metric].filter(container.contains).map(\.stringValue)
        }
    }

    static func validAmount(_ amount: Decimal, metric: Metric) throws -> Decimal {
        guard amount >= 0 else { throw APIError.badRequest("amount must not be negative", field: "amount") }
        guard amount <= Decimal(string: "1e20")! else { throw APIError.badRequest("amount is too large", field: "amount") }
        if metric == .tokens && !amount.isWhole { throw APIError.badRequest("a tokens amount must be a whole number", field: "amount") }
        return amount
    }

    static func validWarnAt(_ value: Decimal?) throws -> Decimal {
        guard let value else { return Decimal(string: "0.8")! }
        guard value > 0 && value <= 1 else { throw APIError.badRequest("warn_at must be greater than 0 and at most 1", field: "warn_at") }
        return value
    }

    static func validThresholds(_ values: [FractionInput]?) throws -> [Decimal]? {
        guard let values else { return nil }
        do {
            return try AlertThresholds.validated(values.map(\.value))
        } catch {
            throw APIError.badRequest(error.description, field: "thresholds")
        }
    }

    /// Routes that change something other than spend go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let group = routes.api, admin = routes.administration
        admin.post("budgets/:id/limits") { request, context in
            let budgetID = try context.parameters.uuid("id")
            let body = try await request.decodeBody(CreateBody.self, context: context)
            let value = body.value
            let period = try parseEnum(value.period, Period.self, field: "period")
            let metric = try parseEnum(value.metric, Metric.self, field: "metric", default: .costUSD)
            let policy = try parseEnum(value.policy, Policy.self, field: "policy", default: .enforce)
            guard let amountInput = value.amount else { throw APIError.badRequest("amount is required", field: "amount") }
            let amount = try Self.validAmount(amountInput.value, metric: metric)
            let warnAt = try Self.validWarnAt(value.warnAt?.value)
            let thresholds = try Self.validThresholds(value.thresholds)
            let scope = value.scope
            let filter = ScopeFilter(component: scope?.component, provider: scope?.provider, model: scope?.model,
                                     taskType: scope?.taskType, tier: scope?.tier, tag: scope?.tag)
            return try await idempotency.respond(operation: "limits.create:\(budgetID)", request: request, hash: body.hash, logger: context.logger) {
                let limit = try await translate {
                    try await repository.create(budgetID: budgetID, filter: filter, period: period, metric: metric, amount: amount,
                                                policy: policy, warnAt: warnAt, thresholds: thresholds, by: request.actor, logger: context.logger)
                }
                catalog.invalidate()
                return (.created, Views.limit(limit))
            }
        }
        group.get("budgets/:id/limits") { request, context in
            let budgetID = try context.parameters.uuid("id")
            let history = request.query("history") == "true"
            let limits = try await repository.list(budgetID: budgetID, history: history, logger: context.logger)
            return try JSONResponse.make(.ok, Page(items: limits.map(Views.limit), nextCursor: nil))
        }
        group.get("limits/:id") { _, context in
            let id = try context.parameters.uuid("id")
            guard let limit = try await repository.current(id, logger: context.logger) else { throw APIError.notFound("no current limit \(id)") }
            return try JSONResponse.make(.ok, Views.limit(limit))
        }
        admin.patch("limits/:id") { request, context in
            let id = try context.parameters.uuid("id")
            let decoded = try await request.decodeBody(PatchBody.self, context: context)
            let body = decoded.value
            if let field = body.immutable.first {
                throw APIError.unprocessable("\(field) cannot change: what a limit counts is fixed; delete it and add a new limit", code: "immutable_field", field: field)
            }
            guard let current = try await repository.current(id, logger: context.logger) else { throw APIError.notFound("no current limit \(id)") }
            let amount = try body.amount.map { try Self.validAmount($0.value, metric: current.metric) }
            let policy = try body.policy.map { try parseEnum($0, Policy.self, field: "policy") }
            let warnAt = try body.warnAt.map { try Self.validWarnAt($0.value) }
            let thresholds: [Decimal]??
            switch body.thresholds {
            case .absent: thresholds = nil
            case .null: thresholds = .some(nil)
            case .value(let values): thresholds = .some(try Self.validThresholds(values))
            }
            // A retried change with the same key must not add another version.
            return try await idempotency.respond(operation: "limits.patch:\(id)", request: request, hash: decoded.hash, logger: context.logger) {
                guard let changed = try await repository.change(id, amount: amount, policy: policy, warnAt: warnAt, thresholds: thresholds, by: request.actor, logger: context.logger) else {
                    throw APIError.notFound("no current limit \(id)")
                }
                catalog.invalidate()
                return (.ok, Views.limit(changed))
            }
        }
        admin.delete("limits/:id") { request, context in
            let id = try context.parameters.uuid("id")
            return try await idempotency.respond(operation: "limits.delete:\(id)", request: request, hash: "", logger: context.logger) {
                guard try await repository.delete(id, by: request.actor, logger: context.logger) else { throw APIError.notFound("no current limit \(id)") }
                catalog.invalidate()
                return (.noContent, .null)
            }
        }
    }
}
