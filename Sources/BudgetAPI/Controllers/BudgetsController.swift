// /api/v1/budgets and /api/v1/budgets/{id}
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird

struct BudgetsController {
    let repository: BudgetRepository
    let catalog: CatalogCache
    let idempotency: IdempotentResponses

    struct CreateBody: Decodable {
        var name: String
        var owner: String?
        var description: String?
        var timezone: String?
        var active: Bool?
    }

    struct PatchBody: Decodable {
        var name: Patch<String>
        var owner: Patch<String>
        var description: Patch<String>
        var timezone: Patch<String>
        var active: Patch<Bool>

        enum CodingKeys: String, CodingKey { case name, owner, description, timezone, active }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodePatch(String.self, forKey: .name)
            owner = try container.decodePatch(String.self, forKey: .owner)
            description = try container.decodePatch(String.self, forKey: .description)
            timezone = try container.decodePatch(String.self, forKey: .timezone)
            active = try container.decodePatch(Bool.self, forKey: .active)
        }
    }

    static func validName(_ name: String) throws -> String {
        let trimmed = name.trimmingWhitespace()
        guard (1...200).contains(trimmed.count) else { throw APIError.badRequest("name must be 1 to 200 characters", field: "name") }
        return trimmed
    }

    static func validZone(_ zone: String) throws -> String {
        guard TimeZone(identifier: zone) != nil else {
            throw APIError.badRequest("timezone '\(zone)' is not an IANA time zone (e.g. UTC, Europe/Berlin)", field: "timezone")
        }
        return zone
    }

    /// Routes that change something other than spend go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let group = routes.api, admin = routes.administration
        admin.post("budgets") { request, context in
            let body = try await request.decodeBody(CreateBody.self, context: context)
            return try await idempotency.respond(operation: "budgets.create", request: request, hash: body.hash, logger: context.logger) {
                let budget = try await translate {
                    try await repository.create(
                        name: try Self.validName(body.value.name), owner: body.value.owner, description: body.value.description,
                        timeZone: try Self.validZone(body.value.timezone ?? "UTC"), active: body.value.active ?? true, logger: context.logger)
                }
                catalog.invalidate()
                return (.created, Views.budget(budget))
            }
        }
        group.get("budgets") { request, context in
            let limit = try pageSize(request)
            var after: (String, UUID)?
            if let cursor = request.query("cursor") {
                let parts = try Cursor.parse(cursor, parts: 2)
                guard let id = UUID(text: parts[1]) else { throw APIError.badRequest("cursor is not valid", field: "cursor") }
                after = (parts[0], id)
            }
            let budgets = try await repository.list(after: after, limit: limit + 1, logger: context.logger)
            let page = Array(budgets.prefix(limit))
            let next = budgets.count > limit ? page.last.map { Cursor.make([$0.name, $0.id.uuidString]) } : nil
            return try JSONResponse.make(.ok, Page(items: page.map(Views.budget), nextCursor: next))
        }
        group.get("budgets/:id") { _, context in
            let id = try context.parameters.uuid("id")
            guard let budget = try await repository.find(id, logger: context.logger) else { throw APIError.notFound("no budget \(id)") }
            return try JSONResponse.make(.ok, Views.budget(budget))
        }
        admin.patch("budgets/:id") { request, context in
            let id = try context.parameters.uuid("id")
            let decoded = try await request.decodeBody(PatchBody.self, context: context)
            let body = decoded.value
            var changes = BudgetRepository.Changes()
            switch body.name {
            case .absent: break
            case .null: throw APIError.badRequest("name cannot be null", field: "name")
            case .value(let name): changes.name = try Self.validName(name)
            }
            switch body.timezone {
            case .absent: break
            case .null: throw APIError.badRequest("timezone cannot be null", field: "timezone")
            case .value(let zone): changes.timeZone = try Self.validZone(zone)
            }
            if case .null = body.active { throw APIError.badRequest("active cannot be null", field: "active") }
            if case .value(let active) = body.active { changes.active = active }
            changes.owner = body.owner.asDoubleOptional
            changes.description = body.description.asDoubleOptional
            let changeSet = changes
            return try await idempotency.respond(operation: "budgets.patch:\(id)", request: request, hash: decoded.hash, logger: context.logger) {
                let updated = try await translate { try await repository.update(id, changeSet, logger: context.logger) }
                guard let updated else { throw APIError.notFound("no budget \(id)") }
                catalog.invalidate()
                return (.ok, Views.budget(updated))
            }
        }
        admin.delete("budgets/:id") { request, context in
            let id = try context.parameters.uuid("id")
            return try await idempotency.respond(operation: "budgets.delete:\(id)", request: request, hash: "", logger: context.logger) {
                guard try await repository.delete(id, by: request.actor, logger: context.logger) else { throw APIError.notFound("no budget \(id)") }
                catalog.invalidate()
                return (.noContent, .null)
            }
        }
    }
}

/// `limit` query parameter: 1…1000, default 100.
func pageSize(_ request: Request, default defaultSize: Int = 100) throws -> Int {
    guard let text = request.query("limit") else { return defaultSize }
    guard let size = Int(text), (1...1000).contains(size) else { throw APIError.badRequest("limit must be between 1 and 1000", field: "limit") }
    return size
}

/// Maps the store's typed errors to HTTP.
func translate<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        switch error.code {
        case .notFound: throw APIError.notFound(error.message)
        case .conflict: throw APIError.conflict(error.message)
        default: throw error
        }
    }
}

extension Request {
    /// Who made a change, for the history of limits and prices (X-Budget-Actor header).
    var actor: String? {
        headers[HTTPField.Name("X-Budget-Actor")!].map { String($0.prefix(200)) }
    }
}
