// /api/v1/budgets/{id}/webhooks and /api/v1/webhooks/{id}/deliveries: where a budget's alerts are
// POSTed, and the log of each delivery.
import BudgetCore
import BudgetStore
import Foundation
import Hummingbird

struct WebhooksController {
    let repository: WebhookRepository
    let idempotency: IdempotentResponses
    let secrets: WebhookSecrets

    struct CreateBody: Decodable {
        var url: String?
        var secret: String?
        var types: [String]?
    }

    static let minimumSecretLength = 16

    static func validURL(_ text: String?) throws -> String {
        guard let text = text?.trimmingWhitespace(), !text.isEmpty else { throw APIError.badRequest("url is required", field: "url") }
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw APIError.badRequest("url must be an absolute http:// or https:// URL", field: "url")
        }
        return text
    }

    static func validSecret(_ text: String?) throws -> String {
        guard let text, !text.isEmpty else { throw APIError.badRequest("secret is required (the key receivers verify signatures with)", field: "secret") }
        guard text.count >= minimumSecretLength, text.utf8.count <= 1024 else {
            throw APIError.badRequest("secret must be \(minimumSecretLength) to 1024 characters", field: "secret")
        }
        guard !WebhookSecrets.isSealed(text) else {
            throw APIError.badRequest("secret must not begin with \(WebhookSecrets.prefix) (the mark of a sealed secret)", field: "secret")
        }
        return text
    }

    static func validTypes(_ names: [String]?) throws -> [AlertType]? {
        guard let names else { return nil }
        guard !names.isEmpty else { throw APIError.badRequest("types must not be empty (leave it out for every type)", field: "types") }
        return try Array(Set(names.map { try parseEnum($0, AlertType.self, field: "types") })).sorted { $0.rawValue < $1.rawValue }
    }

    /// Routes that change something other than spend go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let group = routes.api, admin = routes.administration
        admin.post("budgets/:id/webhooks") { request, context in
            let budgetID = try context.parameters.uuid("id")
            let body = try await request.decodeBody(CreateBody.self, context: context)
            let url = try Self.validURL(body.value.url)
            let secret = try Self.validSecret(body.value.secret)
            let types = try Self.validTypes(body.value.types)
            return try await idempotency.respond(operation: "webhooks.create:\(budgetID)", request: request, hash: body.hash, logger: context.logger) {
                let webhook = try await translate {
                    try await repository.create(budgetID: budgetID, url: try secrets.stored(url), secret: try secrets.stored(secret), types: types,
                                                by: request.actor, logger: context.logger)
                }
                return (.created, AlertViews.webhook(webhook, url: url))
            }
        }
        group.get("budgets/:id/webhooks") { _, context in
            let budgetID = try context.parameters.uuid("id")
            guard let hooks = try await repository.list(budgetID: budgetID, logger: context.logger) else {
                throw APIError.notFound("no budget \(budgetID)")
            }
            // A URL sealed with another key (or with none here) is not shown; deliveries say why.
            return try JSONResponse.make(.ok, Page(items: hooks.map { AlertViews.webhook($0, url: try? secrets.url(from: $0.url)) }, nextCursor: nil))
        }
        admin.delete("budgets/:id/webhooks/:webhook_id") { request, context in
            let budgetID = try context.parameters.uuid("id")
            let webhookID = try context.parameters.uuid("webhook_id")
            return try await idempotency.respond(operation: "webhooks.delete:\(webhookID)", request: request, hash: "", logger: context.logger) {
                guard try await repository.delete(webhookID, budgetID: budgetID, by: request.actor, logger: context.logger) else {
                    throw APIError.notFound("no webhook \(webhookID) on budget \(budgetID)")
                }
                return (.noContent, .null)
            }
        }
        group.get("webhooks/:id/deliveries") { request, context in
            let webhookID = try context.parameters.uuid("id")
            let size = try pageSize(request)
            var before: Int64?
            if let cursor = request.query("cursor") {
                let parts = try Cursor.parse(cursor, parts: 1)
                guard let id = Int64(parts[0]) else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
                before = id
            }
            guard try await repository.get(webhookID, logger: context.logger) != nil else { throw APIError.notFound("no webhook \(webhookID)") }
            let deliveries = try await repository.deliveries(webhookID: webhookID, before: before, limit: size + 1, logger: context.logger)
            let page = Array(deliveries.prefix(size))
            let next = deliveries.count > size ? page.last.map { Cursor.make([String($0.id)]) } : nil
            return try JSONResponse.make(.ok, Page(items: page.map(AlertViews.delivery), nextCursor: next))
        }
    }
}
