// `budget allocate`: reserve an estimated cost against every matching limit before an LLM call.
import ArgumentParser
import Foundation

struct AllocateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocate",
        abstract: "Reserve budget for an LLM call on the server at --url or BUDGET_URL (exit 2 when denied).",
        discussion: "Exit status: 0 granted, 1 request failed, 2 denied by an enforced limit (429 budget_exceeded)."
    )

    enum Priority: String, CaseIterable, ExpressibleByArgument, Encodable {
        case low, normal, high, critical
    }

    @OptionGroup var client: ClientOptions

    @Option(help: "Component making the call (e.g. rhetor).") var component: String
    @Option(help: "LLM provider (e.g. anthropic).") var provider: String
    @Option(help: "Model id (e.g. claude-sonnet-4).") var model: String
    @Option(name: .customLong("task-type"), help: "Kind of task.") var taskType: String?
    @Option(help: "Price tier.") var tier: String?
    @Option(name: .customLong("tag"), help: "A tag of the call (repeatable).") var tags: [String] = []
    @Option(name: .customLong("session-id"), help: "Session the call belongs to (per_session limits).") var sessionID: String?
    @Option(name: .customLong("task-id"), help: "Task the call belongs to (per_task limits).") var taskID: String?
    @Option(name: .customLong("input-tokens"), help: "Estimated input tokens.") var inputTokens: Int64?
    @Option(name: .customLong("max-output-tokens"), help: "Maximum output tokens requested.") var maxOutputTokens: Int64?
    @Option(name: .customLong("cost-usd"), help: "Caller-stated cost in dollars (e.g. 0.0125) instead of the price table.") var costUSD: String?
    @Option(name: .customLong("ttl-seconds"), help: "Seconds until the reservation expires unused.") var ttlSeconds: Int?
    @Option(help: "Priority of the call; critical may bypass enforce.") var priority: Priority?
    @Option(name: .customLong("idempotency-key"), help: "Key making a retry return the first result.") var idempotencyKey: String?

    struct Estimate: Encodable {
        var inputTokens: Int64?
        var maxOutputTokens: Int64?
        var costUSD: String?
        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case maxOutputTokens = "max_output_tokens"
            case costUSD = "cost_usd"
        }
    }

    struct Body: Encodable {
        var scope: ClientWire.CallScope
        var estimate: Estimate
        var ttlSeconds: Int?
        var priority: Priority?
        enum CodingKeys: String, CodingKey {
            case scope, estimate, priority
            case ttlSeconds = "ttl_seconds"
        }
    }

    func validate() throws {
        if let costUSD { try DecimalArgument.check(costUSD, option: "--cost-usd") }
        for (name, value) in [("--input-tokens", inputTokens), ("--max-output-tokens", maxOutputTokens)] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
        if let ttlSeconds, ttlSeconds <= 0 { throw ValidationError("--ttl-seconds must be positive") }
    }

    func run() async throws {
        try await client.run { http in
            let body = Body(
                scope: ClientWire.CallScope(
                    component: component, provider: provider, model: model, taskType: taskType, tier: tier,
                    tags: tags.isEmpty ? nil : tags, sessionID: sessionID, taskID: taskID
                ),
                estimate: Estimate(inputTokens: inputTokens, maxOutputTokens: maxOutputTokens, costUSD: costUSD),
                ttlSeconds: ttlSeconds,
                priority: priority
            )
            let response: ClientResponse
            do {
                response = try await http.post("/api/v1/allocations", body: body, idempotencyKey: idempotencyKey)
            } catch let error as ClientError where error.statusCode == 429 {
                reportDenial(error)
                throw ExitCode(2)
            }
            if client.json { return ClientOutput.printJSON(response.body) }
            let allocation = try ClientWire.decode(ClientWire.Allocation.self, from: response.body)
            var lines = [ClientOutput.fields([
                ("id", allocation.id.cell), ("status", allocation.status.cell),
                ("reserved_cost_usd", allocation.reservedCostUSD.cell), ("reserved_tokens", allocation.reservedTokens.cell),
                ("expires_at", allocation.expiresAt.cell),
                ("bypass", allocation.bypass?.description == "true" ? "true (critical priority bypassed enforce)" : nil),
                ("price_id", allocation.priceID?.description),
            ])]
            for warning in allocation.warnings ?? [] {
                lines.append("warning: \(warning)")
            }
            if let limits = allocation.limits, !limits.isEmpty {
                lines.append("")
                lines.append(LimitStateTable.render(limits))
            }
            print(lines.joined(separator: "\n"))
        }
    }

    private func reportDenial(_ error: ClientError) {
        if client.json {
            ClientOutput.printJSON(error.body)
            return
        }
        var lines = ["denied: \(error.message) (\(error.code ?? "budget_exceeded"))"]
        if let limit = error.deniedLimit {
            lines.append(LimitStateTable.render([limit]))
        }
        if let retryAfter = error.retryAfter {
            lines.append("retry after \(retryAfter) s")
        }
        ClientOutput.printError(lines.joined(separator: "\n"))
    }
}

/// The state of limit windows, as returned by allocate, a denial and status.
enum LimitStateTable {
    static func render(_ limits: [ClientWire.LimitState]) -> String {
        var table = TextTable(["limit", "budget", "scope", "period", "policy", "window_start", "amount", "spent", "reserved", "remaining", "state"])
        for limit in limits {
            table.append([
                limit.limitID.cell, (limit.budgetName ?? limit.budgetID).cell, limit.scope?.summary ?? "-",
                limit.period.cell, limit.policy.cell, limit.windowStart.cell, limit.amount.cell,
                limit.spent.cell, limit.reserved.cell, limit.remaining.cell, limit.state.cell,
            ])
        }
        return table.render()
    }
}
