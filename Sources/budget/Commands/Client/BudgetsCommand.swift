// `budget budgets …`: create, list, show and delete budgets on a running server.
import ArgumentParser
import Foundation

struct BudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budgets",
        abstract: "Create, list, show and delete budgets on the server at --url or BUDGET_URL.",
        subcommands: [Create.self, List.self, Show.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a budget on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Option(help: "Name of the budget.")
        var name: String

        @Option(help: "Who is responsible for it.")
        var owner: String?

        @Option(help: "What the budget is for.")
        var description: String?

        @Option(help: "IANA timezone its periods are computed in (server default: UTC).")
        var timezone: String?

        @Flag(help: "Create it inactive (its limits are not applied).")
        var inactive = false

        struct Body: Encodable {
            var name: String
            var owner: String?
            var description: String?
            var timezone: String?
            var active: Bool
        }

        func run() async throws {
            try await client.run { http in
                let body = Body(name: name, owner: owner, description: description, timezone: timezone, active: !inactive)
                let response = try await http.post("/api/v1/budgets", body: body)
                if client.json { return ClientOutput.printJSON(response.body) }
                print(BudgetsCommand.describe(try ClientWire.decode(ClientWire.Budget.self, from: response.body)))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List all budgets (every page) on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.run { http in
                let pages = try await http.allPages("/api/v1/budgets")
                if client.json { return ClientOutput.printJSON(JSONText.mergePages(pages)) }
                var table = TextTable(["id", "name", "owner", "timezone", "active", "created_at"])
                for page in pages {
                    for budget in try ClientWire.decode(ClientWire.Page<ClientWire.Budget>.self, from: page).items ?? [] {
                        table.append([budget.id.cell, budget.name.cell, budget.owner.cell, budget.timezone.cell, budget.active.cell, budget.createdAt.cell])
                    }
                }
                print(table.render())
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one budget from the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The budget's id.")
        var id: String

        func run() async throws {
            try await client.run { http in
                let response = try await http.get("/api/v1/budgets/\(BudgetHTTPClient.segment(id))")
                if client.json { return ClientOutput.printJSON(response.body) }
                print(BudgetsCommand.describe(try ClientWire.decode(ClientWire.Budget.self, from: response.body)))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a budget on the server at --url or BUDGET_URL."
        )

        @OptionGroup var client: ClientOptions

        @Argument(help: "The budget's id.")
        var id: String

        func run() async throws {
            try await client.run { http in
                let response = try await http.delete("/api/v1/budgets/\(BudgetHTTPClient.segment(id))")
                if client.json {
                    if !response.body.isEmpty { ClientOutput.printJSON(response.body) }
                    return
                }
                print("deleted budget \(id)")
            }
        }
    }

    static func describe(_ budget: ClientWire.Budget) -> String {
        ClientOutput.fields([
            ("id", budget.id.cell), ("name", budget.name.cell), ("owner", budget.owner.cell),
            ("description", budget.description.cell), ("timezone", budget.timezone.cell), ("active", budget.active.cell),
            ("created_at", budget.createdAt.cell), ("updated_at", budget.updatedAt.cell),
        ])
    }
}
