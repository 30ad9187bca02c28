// /api/v1/prices/{provider}/{model}: set (PUT) and read a model's price and its history.
import BudgetCore
import BudgetStore
import Foundation
import Hummingbird

struct PricesController {
    let repository: PriceRepository
    let catalog: CatalogCache
    let idempotency: IdempotentResponses

    struct PriceBody: Decodable {
        var inputPerToken: DecimalInput?
        var outputPerToken: DecimalInput?
        var cacheReadPerToken: DecimalInput?
        var cacheWritePerToken: DecimalInput?
        var reasoningPerToken: DecimalInput?
        enum CodingKeys: String, CodingKey {
            case inputPerToken = "input_per_token", outputPerToken = "output_per_token", cacheReadPerToken = "cache_read_per_token"
            case cacheWritePerToken = "cache_write_per_token", reasoningPerToken = "reasoning_per_token"
        }
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

    func addRoutes(to group: RouterGroup<BudgetRequestContext>) {
        group.put("prices/:provider/:model") { request, context in
            let (provider, model) = try Self.names(context)
            let body = try await request.decodeBody(PriceBody.self, context: context)
            let value = body.value
            let input = try Self.perToken(value.inputPerToken, field: "input_per_token", required: true)!
            let output = try Self.perToken(value.outputPerToken, field: "output_per_token", required: true)!
            let cacheRead = try Self.perToken(value.cacheReadPerToken, field: "cache_read_per_token", required: false)
            let cacheWrite = try Self.perToken(value.cacheWritePerToken, field: "cache_write_per_token", required: false)
            let reasoning = try Self.perToken(value.reasoningPerToken, field: "reasoning_per_token", required: false)
            return try await idempotency.respond(operation: "prices.put:\(provider)/\(model)", request: request, hash: body.hash, logger: context.logger) {
                let record = try await repository.setManual(provider: provider, model: model, input: input, output: output, cacheRead: cacheRead,
                                                            cacheWrite: cacheWrite, reasoning: reasoning, by: request.actor, logger: context.logger)
                await catalog.invalidate()
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
