// `budget usage …`: record a call's usage directly, and list the usage ledger.
import ArgumentParser
import Foundation

struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Record and list LLM usage on the server at --url or BUDGET_URL.",
        subcommands: [Record.self, List.self]
    )

    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record one LLM call's usage (without an allocation) on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Option(help: "Component that made the call.") var component: String
        @Option(help: "LLM provider.") var provider: String
        @Option(help: "Model id.") var model: String
        @Option(name: .customLong("task-type"), help: "Kind of task.") var taskType: String?
        @Option(help: "Price tier.") var tier: String?
        @Option(name: .customLong("tag"), help: "A tag of the call (repeatable).") var tags: [String] = []
        @Option(name: .customLong("session-id"), help: "Session the call belongs to.") var sessionID: String?
        @Option(name: .customLong("task-id"), help: "Task the call belongs to.") var taskID: String?
        @OptionGroup var tokens: TokenOptions
        @Option(name: .customLong("cost-usd"), help: "Caller-stated cost in dollars instead of the price table.") var costUSD: String?
        @Option(name: .customLong("occurred-at"), help: "When the call happened, ISO 8601 (default: now).") var occurredAt: String?
        @Option(name: .customLong("idempotency-key"), help: "Key making a retry return the first result.") var idempotencyKey: String?

        struct Body: Encodable {
            var scope: ClientWire.CallScope
            var usage: ClientWire.TokenCounts
            var costUSD: String?
            var occurredAt: String?
            enum CodingKeys: String, CodingKey {
                case scope, usage
                case costUSD = "cost_usd"
                case occurredAt = "occurred_at"
            }
        }

        func validate() throws {
            if let costUSD { try DecimalArgument.check(costUSD, option: "--cost-usd") }
        }

        func run() async throws {
            try await client.run { http in
                let body = Body(
                    scope: ClientWire.CallScope(
                        component: component, provider: provider, model: model, taskType: taskType, tier: tier,
                        tags: tags.isEmpty ? nil : tags, sessionID: sessionID, taskID: taskID
                    ),
                    usage: tokens.counts, costUSD: costUSD, occurredAt: occurredAt
                )
                let response = try await http.post("/api/v1/usage", body: body, idempotencyKey: idempotencyKey)
                if client.json { return ClientOutput.printJSON(response.body) }
                let record = try ClientWire.decode(ClientWire.UsageRecord.self, from: response.body)
                let usage = record.usage
                print(ClientOutput.fields([
                    ("id", record.id.cell), ("occurred_at", record.occurredAt.cell), ("scope", record.scope?.summary ?? "-"),
                    ("input_tokens", usage?.inputTokens.cell), ("output_tokens", usage?.outputTokens.cell),
                    ("cache_read_tokens", usage?.cacheReadTokens.cell), ("cache_write_tokens", usage?.cacheWriteTokens.cell),
                    ("reasoning_tokens", usage?.reasoningTokens.cell), ("cost_usd", record.costUSD.cell),
                    ("pricing_status", record.pricingStatus.cell), ("price_id", record.priceID.cell), ("origin", record.origin.cell),
                ]))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recorded usage, newest first, from the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Option(help: "Only usage at or after this time (ISO 8601).") var from: String?
        @Option(help: "Only usage before this time (ISO 8601).") var to: String?
        @Option(help: "Only this component.") var component: String?
        @Option(help: "Only this provider.") var provider: String?
        @Option(help: "Only this model.") var model: String?
        @Option(help: "Records per page.") var limit: Int?
        @Option(help: "Continue from a page's next_cursor.") var cursor: String?
        @Flag(help: "Follow next_cursor and list every page.") var all = false

        func validate() throws {
            if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            try await client.run { http in
                let query: [(String, String?)] = [
                    ("from", from), ("to", to), ("component", component), ("provider", provider),
                    ("model", model), ("limit", limit.map(String.init)),
                ]
                let pages: [Data]
                if all {
                    pages = try await http.allPages("/api/v1/usage", query: query, startingAt: cursor)
                } else {
                    pages = [try await http.get("/api/v1/usage", query: query + [("cursor", cursor)]).body]
                }
                if client.json { return ClientOutput.printJSON(JSONText.mergePages(pages)) }
                var table = TextTable(["id", "occurred_at", "component", "provider", "model", "input", "output", "cost_usd", "pricing"])
                var nextCursor: String?
                for page in pages {
                    let decoded = try ClientWire.decode(ClientWire.Page<ClientWire.UsageRecord>.self, from: page)
                    nextCursor = decoded.nextCursor
                    for record in decoded.items ?? [] {
                        table.append([
                            record.id.cell, record.occurredAt.cell, record.scope?.component ?? "-", record.scope?.provider ?? "-",
                            record.scope?.model ?? "-", record.usage?.inputTokens.cell ?? "-", record.usage?.outputTokens.cell ?? "-",
                            record.costUSD.cell, record.pricingStatus.cell,
                        ])
                    }
                }
                print(table.render())
                if let nextCursor {
                    print("more: next_cursor \(nextCursor) (use --cursor \(nextCursor), or --all)")
                }
            }
        }
    }
}
