// `budget status`: spent, reserved and remaining in the current window of every matching limit.
import ArgumentParser
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show current spend against limits on the server at --url or BUDGET_URL."
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Only limits applying to this component.") var component: String?
    @Option(help: "Only limits applying to this provider.") var provider: String?
    @Option(help: "Only limits applying to this model.") var model: String?
    @Option(name: .customLong("task-type"), help: "Only limits applying to this task type.") var taskType: String?
    @Option(name: .customLong("budget-id"), help: "Only the limits of this budget.") var budgetID: String?
    @Option(name: .customLong("session-id"), help: "Window of per_session limits for this session.") var sessionID: String?
    @Option(name: .customLong("task-id"), help: "Window of per_task limits for this task.") var taskID: String?

    func run() async throws {
        try await client.run { http in
            let response = try await http.get("/api/v1/status", query: [
                ("component", component), ("provider", provider), ("model", model), ("task_type", taskType),
                ("budget_id", budgetID), ("session_id", sessionID), ("task_id", taskID),
            ])
            if client.json { return ClientOutput.printJSON(response.body) }
            let items = try ClientWire.decode(ClientWire.Page<ClientWire.LimitState>.self, from: response.body).items ?? []
            var table = TextTable(["budget", "limit scope", "period", "window_start", "amount", "spent", "reserved", "remaining", "state"])
            for item in items {
                table.append([
                    (item.budgetName ?? item.budgetID).cell, item.scope?.summary ?? "*", item.period.cell, item.windowStart.cell,
                    item.amount.cell, item.spent.cell, item.reserved.cell, item.remaining.cell, item.state.cell,
                ])
            }
            print(items.isEmpty ? "no limits match" : table.render())
        }
    }
}
