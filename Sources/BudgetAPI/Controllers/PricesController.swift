// /api/v1/prices/{provider}/{model}: set (PUT) and read a model's price and its history.
import BudgetCore
import BudgetPricing
import BudgetStore
import Foundation
import Hummingbird

struct PricesController {
    let repository: PriceRepository
    let catalog: CatalogCache
    let idempotency: IdempotentResponses
    /// Nil when the application was built without price sources (POST /prices/sync answers 503).
    let sync: PriceSyncJob?

    struct PriceBody: Decodable {
        var inputPerToken: DecimalInput?
        var outputPerToken: DecimalInput?
        var cacheReadPerToken: DecimalInput?
        var cacheWritePerToken: DecimalInput?
        var reasoningPerToken: DecimalInput?
        var timesOfDay: [TimeOfDayBody]?
        enum CodingKeys: String, CodingKey {
            case inputPerToken = "input_per_token", outputPerToken = "output_per_token", cacheReadPerToken = "cache_read_per_token"
            case cacheWritePerToken = "cache_write_per_token", reasoningPerToken = "reasoning_per_token", timesOfDay = "times_of_day"
        }
    }

    /// Prices for hours of the UTC day, as stored and shown: `{"start": "16:30", "end": "00:30",
    /// "input": "0.000000135", "output": …, "cache_read": …, "cache_write": …}` (USD per token).
    struct TimeOfDayBody: Decodable {
        var start: String?
        var end: String?
        var input: DecimalInput?
        var output: DecimalInput?
        var cacheRead: DecimalInput?
        var cacheWrite: DecimalInput?
        enum CodingKeys: String, CodingKey {
            case start, end, input, output, cacheRead = "cache_read", cacheWrite = "cache_write"
        }
    }

    /// The windows of a PUT, checked: times of the UTC day, two different ends, a price at least,
    /// and no second of the day in two windows.
    static func timesOfDay(_ bodies: [TimeOfDayBody]?) throws -> [TimeOfDayPrice] {
        guard let bodies else { return [] }
        guard bodies.count <= 24 else { throw APIError.badRequest("times_of_day takes at most 24 windows", field: "times_of_day") }
        var windows: [TimeOfDayPrice] = []
        for (index, body) in bodies.enumerated() {
            let field = "times_of_day[\(index)]"
            func time(_ text: String?, _ name: String) throws -> Int {
                guard let text, let seconds = TimeOfDayPrice.secondsOfDay(text) else {
                    throw APIError.badRequest("\(field).\(name) must be a UTC time of day such as \"16:30\"", field: "\(field).\(name)")
                }
                return seconds
            }
            let window = TimeOfDayPrice(
                start: try time(body.start, "start"), end: try time(body.end, "end"),
                input: try perToken(body.input, field: "\(field).input", required: false),
                output: try perToken(body.output, field: "\(field).output", required: false),
                cacheRead: try perToken(body.cacheRead, field: "\(field).cache_read", required: false),
                cacheWrite: try perToken(body.cacheWrite, field: "\(field).cache_write", required: false))
            guard window.start != window.end else {
                throw APIError.badRequest("\(field) starts and ends at the same time; the base prices are those of the whole day", field: field)
            }
            guard window.isValid else { throw APIError.badRequest("\(field) states no price", field: field) }
            if let other = windows.firstIndex(where: { $0.overlaps(window) }) {
                throw APIError.badRequest("\(field) overlaps times_of_day[\(other)]", field: field)
            }
            windows.append(window)
        }
        return windows
    }

    static func perToken(_ input: DecimalInput?, field: String, required: Bool) throws -> Decimal? {
        guard let value = input?.value else {
            if required { throw APIError.badRequest("\(field) is required (USD per token, as a decimal string)", field: field) }
            return nil
        }
        guard value >= 0 else { throw APIError.badRequest("\(field) must not be negative", field: field) }
        guard value < 1000 else { throw APIError.badRequest("\(field) is USD per token; \(value) is implausible", field: field) }
        return value
    }

    /// A JSON document the database built, passed through as it is.
    static func raw(_ text: String, key: String) throws -> Response {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        return try JSONResponse.make(.ok, JSONValue.object([key: value]))
    }

    /// Routes that change something other than spend go to `routes.administration`.
    func addRoutes(to routes: APIRoutes) {
        let group = routes.api, admin = routes.administration
        group.get("prices") { request, context in
            let status = request.query("status")
            if let status, !["verified", "single_source", "conflict", "manual"].contains(status) {
                throw APIError.badRequest("status must be verified, single_source, conflict or manual", field: "status")
            }
            let text = try await repository.listCurrent(provider: request.query("provider"), model: request.query("model"), status: status, logger: context.logger)
            return try Self.raw(text, key: "items")
        }
        group.get("prices/conflicts") { _, context in
            try Self.raw(try await repository.conflicts(logger: context.logger), key: "items")
        }
        group.get("prices/sync-runs") { request, context in
            try Self.raw(try await repository.syncRuns(limit: try pageSize(request, default: 20), logger: context.logger), key: "items")
        }
        admin.post("prices/sync") { request, context in
            guard let sync else { throw APIError(.serviceUnavailable, code: "sync_unavailable", message: "price sources are not configured in this instance") }
            let dryRun = request.query("dry_run") == "true"
            guard let summary = try await sync.run(dryRun: dryRun) else {
                throw APIError.conflict("another Budget instance is syncing prices right now", code: "sync_in_progress")
            }
            catalog.invalidate()
            return try JSONResponse.make(.ok, JSONValue.object([
                "run_id": .integer(summary.runID), "dry_run": .bool(summary.dryRun), "status": .string(summary.status),
                "changed": .integer(Int64(summary.plan.changes.count)), "unchanged": .integer(Int64(summary.plan.unchanged)),
                "conflicts": .integer(Int64(summary.plan.conflicts.count)), "overridden": .integer(Int64(summary.plan.overridden)),
                "sources": .array(summary.outcomes.map { outcome in
                    .object(["source": .string(outcome.source), "status": .string(outcome.status.rawValue),
                             "observations": .integer(Int64(outcome.observations)), "error": .text(outcome.error)])
                }),
            ]))
        }
        admin.delete("prices/:provider/:model") { request, context in
            let (provider, model) = try Self.names(context)
            guard try await repository.removeOverride(provider: provider, model: model, by: request.actor, logger: context.logger) else {
                throw APIError.notFound("\(provider)/\(model) has no manual price")
            }
            catalog.invalidate()
            return JSONResponse.noContent()
        }
        group.get("models/aliases") { _, context in
            try Self.raw(try await repository.aliases(logger: context.logger), key: "items")
        }
        admin.put("models/aliases/:provider/:model") { request, context in
            struct AliasBody: Decodable {
                var canonicalProvider: String?
                var canonicalModel: String?
                var note: String?
                enum CodingKeys: String, CodingKey { case note, canonicalProvider = "canonical_provider", canonicalModel = "canonical_model" }
            }
            let (provider, model) = try Self.names(context)
            let body = try await request.decodeBody(AliasBody.self, context: context).value
            guard let canonicalModel = body.canonicalModel?.trimmingWhitespace(), !canonicalModel.isEmpty else {
                throw APIError.badRequest("canonical_model is required", field: "canonical_model")
            }
            let canonicalProvider = body.canonicalProvider?.trimmingWhitespace() ?? provider
            try await repository.setAlias(provider: provider, model: model, canonicalProvider: canonicalProvider.isEmpty ? provider : canonicalProvider,
                                          canonicalModel: canonicalModel, note: body.note, logger: context.logger)
            catalog.invalidate()
            return try JSONResponse.make(.ok, JSONValue.object([
                "provider": .string(provider.lowercased()), "model": .string(model.lowercased()),
                "canonical_provider": .string((canonicalProvider.isEmpty ? provider : canonicalProvider).lowercased()),
                "canonical_model": .string(canonicalModel.lowercased()), "note": .text(body.note),
            ]))
        }
        admin.delete("models/aliases/:provider/:model") { _, context in
            let (provider, model) = try Self.names(context)
            guard try await repository.deleteAlias(provider: provider, model: model, logger: context.logger) else {
                throw APIError.notFound("no alias for \(provider)/\(model)")
            }
            catalog.invalidate()
            return JSONResponse.noContent()
        }
        group.get("models/tiers") { _, _ in
            // The current prices are the ones the engine already holds.
            var tiers: [String: [JSONValue]] = ["free": [], "low": [], "medium": [], "high": []]
            for price in try await catalog.current().prices.values.sorted(by: { ($0.provider, $0.model) < ($1.provider, $1.model) }) {
                let tier = PriceTier.classify(inputPerToken: price.input, outputPerToken: price.output)
                tiers[tier.rawValue, default: []].append(.object([
                    "provider": .string(price.provider), "model": .string(price.model),
                    "cost_per_1k_tokens": .money((price.input + price.output) * 1000),
                ]))
            }
            return try JSONResponse.make(.ok, JSONValue.object(tiers.mapValues(JSONValue.array)))
        }
        admin.put("prices/:provider/:model") { request, context in
            let (provider, model) = try Self.names(context)
            let body = try await request.decodeBody(PriceBody.self, context: context)
            let value = body.value
            let input = try Self.perToken(value.inputPerToken, field: "input_per_token", required: true)!
            let output = try Self.perToken(value.outputPerToken, field: "output_per_token", required: true)!
            let cacheRead = try Self.perToken(value.cacheReadPerToken, field: "cache_read_per_token", required: false)
            let cacheWrite = try Self.perToken(value.cacheWritePerToken, field: "cache_write_per_token", required: false)
            let reasoning = try Self.perToken(value.reasoningPerToken, field: "reasoning_per_token", required: false)
            let timesOfDay = try Self.timesOfDay(value.timesOfDay)
            return try await idempotency.respond(operation: "prices.put:\(provider)/\(model)", request: request, hash: body.hash, logger: context.logger) {
                let record = try await repository.setManual(provider: provider, model: model, input: input, output: output, cacheRead: cacheRead,
                                                            cacheWrite: cacheWrite, reasoning: reasoning, timesOfDay: timesOfDay,
                                                            by: request.actor, logger: context.logger)
                catalog.invalidate()
                return (.ok, Views.price(record))
            }
        }
        group.get("prices/:provider/:model") { _, context in
            let (provider, model) = try Self.names(context)
            let history = try await repository.history(provider: provider, model: model, logger: context.logger)
            guard !history.isEmpty else { throw APIError.notFound("no price for \(provider)/\(model)") }
            return try JSONResponse.make(.ok, JSONValue.object([
                "current": history.first(where: { $0.effectiveTo == nil }).map(Views.price) ?? .null,
                "history": .array(history.map(Views.price)),
            ]))
        }
    }

    static func names(_ context: BudgetRequestContext) throws -> (String, String) {
        guard let provider = context.parameters.get("provider")?.removingPercentEncoding?.trimmingWhitespace(), !provider.isEmpty,
              let model = context.parameters.get("model")?.removingPercentEncoding?.trimmingWhitespace(), !model.isEmpty else {
            throw APIError.badRequest("provider and model are required in the path")
        }
        return (provider, model)
    }
}
