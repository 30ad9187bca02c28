// `budget report spend`: GET /api/v1/reports/spend as a table, CSV (the server's own) or JSON.
import ArgumentParser
import Foundation
import NIOHTTP1

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports from the server at --url or BUDGET_URL.",
        subcommands: [ReportSpendCommand.self]
    )
}

struct ReportSpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract: "Spend per time bucket and scope: token sums, cost (exact decimal) and counts.",
        discussion: """
            Example: budget report spend --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --bucket day --group-by component,model
            Buckets are in --timezone (default: the budget's zone with --budget-id, else UTC); weeks start on Monday.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "Start of the range (ISO 8601 with a zone, inclusive).") var from: String
    @Option(help: "End of the range (ISO 8601 with a zone, exclusive).") var to: String
    @Option(help: "hour, day, week or month (default: day).") var bucket: String?
    @Option(name: .customLong("group-by"), help: "Comma-separated: component, provider, model, task_type, tier.") var groupBy: String?
    @Option(help: "IANA time zone of the buckets, e.g. Europe/Berlin.") var timezone: String?
    @Option(name: .customLong("budget-id"), help: "Only usage counted by this budget's limits (and its zone by default).") var budgetID: String?
    @Flag(help: "Print CSV (with a header row) instead of a table.") var csv = false

    func validate() throws {
        if csv && client.json { throw ValidationError("--csv and --json exclude each other") }
    }

    func run() async throws {
        let query: [(String, String?)] = [
            ("from", from), ("to", to), ("bucket", bucket), ("group_by", groupBy), ("timezone", timezone), ("budget_id", budgetID),
        ]
        try await client.run { http in
            if csv {
                let response = try await http.send(.GET, "/api/v1/reports/spend", query: query, accept: "text/csv")
                FileHandle.standardOutput.write(response.body)
                return
            }
            let response = try await http.get("/api/v1/reports/spend", query: query)
            if client.json { return ClientOutput.printJSON(response.body) }
            let report: SpendReportWire
            do {
                report = try JSONDecoder().decode(SpendReportWire.self, from: response.body)
            } catch {
                throw ClientError.unreadable(String(decoding: response.body.prefix(200), as: UTF8.self))
            }
            print(Self.table(report))
        }
    }

    static func table(_ report: SpendReportWire) -> String {
        guard !report.items.isEmpty else { return "no usage in this range" }
        let keys = report.groupBy
        var table = TextTable(["bucket (\(report.timezone))"] + keys + ["input", "output", "cache read", "cache write", "reasoning", "cost USD", "count", "unpriced"])
        for item in report.items {
            table.append([item.bucketLocal] + keys.map { item.group($0) ?? "(none)" } + [
                String(item.inputTokens), String(item.outputTokens), String(item.cacheReadTokens), String(item.cacheWriteTokens),
                String(item.reasoningTokens), item.costUSD, String(item.count), String(item.unpricedCount),
            ])
        }
        return table.render()
    }
}

/// The JSON of GET /api/v1/reports/spend as the command reads it.
struct SpendReportWire: Decodable {
    struct Item: Decodable {
        var bucketLocal: String
        var component: String?
        var provider: String?
        var model: String?
        var taskType: String?
        var tier: String?
        var inputTokens: Int64
        var outputTokens: Int64
        var cacheReadTokens: Int64
        var cacheWriteTokens: Int64
        var reasoningTokens: Int64
        var costUSD: String
        var count: Int64
        var unpricedCount: Int64

        func group(_ key: String) -> String? {
            switch key {
            case "component": return component
            case "provider": return provider
            case "model": return model
            case "task_type": return taskType
            case "tier": return tier
            default: return nil
            }
        }

        enum CodingKeys: String, CodingKey {
            case component, provider, model, tier, count
            case bucketLocal = "bucket_local", taskType = "task_type", inputTokens = "input_tokens", outputTokens = "output_tokens"
            case cacheReadTokens = "cache_read_tokens", cacheWriteTokens = "cache_write_tokens", reasoningTokens = "reasoning_tokens"
            case costUSD = "cost_usd", unpricedCount = "unpriced_count"
        }
    }

    var timezone: String
    var groupBy: [String]
    var source: String
    var items: [Item]

    enum CodingKeys: String, CodingKey {
        case timezone, source, items
        case groupBy = "group_by"
    }
}
