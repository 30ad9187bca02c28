// `budget limits …`: add, list and remove the limits of a budget on a running server.
import ArgumentParser
import Foundation

struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Add, list and remove budget limits on the server at --url or BUDGET_URL.",
        subcommands: [Add.self, List.self, Remove.self]
    )

    enum Period: String, CaseIterable, ExpressibleByArgument, Encodable {
        case hourly, daily, weekly, monthly
        case perSession = "per_session"
        case perTask = "per_task"
    }

    enum Metric: String, CaseIterable, ExpressibleByArgument, Encodable {
        case costUSD = "cost_usd"
        case tokens
    }

    enum Policy: String, CaseIterable, ExpressibleByArgument, Encodable {
        case ignore, warn, enforce
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a limit to a budget on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The budget's id.")
        var budgetID: String

        @Option(help: "Window the amount applies to.")
        var period: Period

        @Option(help: "The amount allowed per window: dollars (e.g. 25.50) or tokens, as written.")
        var amount: String

        @Option(help: "What is counted (server default: cost_usd).")
        var metric: Metric?

        @Option(help: "What happens past the amount (server default when omitted).")
        var policy: Policy?

        @Option(name: .customLong("warn-at"), help: "Fraction of the amount that raises a warning (e.g. 0.8).")
        var warnAt: String?

        @Option(help: "Only calls from this component.") var component: String?
        @Option(help: "Only calls to this provider.") var provider: String?
        @Option(help: "Only calls to this model.") var model: String?
        @Option(name: .customLong("task-type"), help: "Only calls of this task type.") var taskType: String?
        @Option(help: "Only calls in this price tier.") var tier: String?
        @Option(help: "Only calls carrying this tag.") var tag: String?

        struct Body: Encodable {
            var scope: ClientWire.LimitScope
            var period: Period
            var metric: Metric?
            var amount: String
            var policy: Policy?
            var warnAt: String?
            enum CodingKeys: String, CodingKey {
                case scope, period, metric, amount, policy
                case warnAt = "warn_at"
            }
        }

        func validate() throws {
            try DecimalArgument.check(amount, option: "--amount")
            if let warnAt { try DecimalArgument.check(warnAt, option: "--warn-at") }
        }

        func run() async throws {
            try await client.run { http in
                let scope = ClientWire.LimitScope(component: component, provider: provider, model: model, taskType: taskType, tier: tier, tag: tag)
                let body = Body(scope: scope, period: period, metric: metric, amount: amount, policy: policy, warnAt: warnAt)
                let response = try await http.post("/api/v1/budgets/\(BudgetHTTPClient.segment(budgetID))/limits", body: body)
                if client.json { return ClientOutput.printJSON(response.body) }
                let limit = try ClientWire.decode(ClientWire.Limit.self, from: response.body)
                print(ClientOutput.fields([
                    ("id", limit.id.cell), ("budget_id", limit.budgetID.cell), ("version", limit.version.cell),
                    ("scope", limit.scope?.summary ?? "*"), ("period", limit.period.cell), ("metric", limit.metric.cell),
                    ("amount", limit.amount.cell), ("policy", limit.policy.cell), ("warn_at", limit.warnAt.cell),
                    ("valid_from", limit.validFrom.cell), ("valid_to", limit.validTo.cell),
                ]))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a budget's limits on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The budget's id.")
        var budgetID: String

        func run() async throws {
            try await client.run { http in
                let pages = try await http.allPages("/api/v1/budgets/\(BudgetHTTPClient.segment(budgetID))/limits")
                if client.json { return ClientOutput.printJSON(JSONText.mergePages(pages)) }
                var table = TextTable(["id", "scope", "period", "metric", "amount", "policy", "warn_at", "version"])
                for page in pages {
                    for limit in try ClientWire.decode(ClientWire.Page<ClientWire.Limit>.self, from: page).items ?? [] {
                        table.append([
                            limit.id.cell, limit.scope?.summary ?? "*", limit.period.cell, limit.metric.cell,
                            limit.amount.cell, limit.policy.cell, limit.warnAt.cell, limit.version.cell,
                        ])
                    }
                }
                print(table.render())
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove (close) a limit on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The limit's id.")
        var limitID: String

        func run() async throws {
            try await client.run { http in
                let response = try await http.delete("/api/v1/limits/\(BudgetHTTPClient.segment(limitID))")
                if client.json {
                    if !response.body.isEmpty { ClientOutput.printJSON(response.body) }
                    return
                }
                print("removed limit \(limitID)")
            }
        }
    }
}

/// Early, friendly check of decimal options; the server stays the authority on their meaning.
enum DecimalArgument {
    static func check(_ text: String, option: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let isDigits = { (part: Substring) in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
        guard (parts.count == 1 && isDigits(parts[0])) || (parts.count == 2 && isDigits(parts[0]) && isDigits(parts[1])) else {
            throw ValidationError("\(option) must be a non-negative decimal number such as 12 or 0.0125, not '\(text)'")
        }
    }
}
