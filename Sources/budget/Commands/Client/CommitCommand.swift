// `budget commit`: record the actual usage of an allocation after the LLM call.
import ArgumentParser
import Foundation

struct CommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Record the actual usage of an allocation on the server at --url or BUDGET_URL."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The allocation's id (from `budget allocate`).") var allocationID: String
    @OptionGroup var tokens: TokenOptions
    @Option(help: "The model actually used, when it differs from the allocation's.") var model: String?
    @Option(name: .customLong("cost-usd"), help: "Caller-stated cost in dollars instead of the price table.") var costUSD: String?
    @Option(name: .customLong("idempotency-key"), help: "Key making a retry return the first result.") var idempotencyKey: String?

    struct Body: Encodable {
        var usage: ClientWire.TokenCounts
        var model: String?
        var costUSD: String?
        enum CodingKeys: String, CodingKey {
            case usage, model
            case costUSD = "cost_usd"
        }
    }

    func validate() throws {
        if let costUSD { try DecimalArgument.check(costUSD, option: "--cost-usd") }
    }

    func run() async throws {
        try await client.run { http in
            let body = Body(usage: tokens.counts, model: model, costUSD: costUSD)
            let response = try await http.post(
                "/api/v1/allocations/\(BudgetHTTPClient.segment(allocationID))/commit", body: body, idempotencyKey: idempotencyKey
            )
            if client.json { return ClientOutput.printJSON(response.body) }
            let commit = try ClientWire.decode(ClientWire.Commit.self, from: response.body)
            var text = ClientOutput.fields([
                ("usage_id", commit.usageID.cell), ("allocation_id", commit.allocationID.cell),
                ("cost_usd", commit.costUSD.cell), ("pricing_status", commit.pricingStatus.cell),
                ("price_id", commit.priceID.cell), ("reservation_expired", commit.reservationExpired.cell),
            ])
            if commit.pricingStatus?.description == "unpriced" {
                text += "\nwarning: the model has no known price; the usage is recorded as unpriced"
            }
            print(text)
        }
    }
}

/// Token counts of one call by kind, shared by `commit` and `usage record`.
struct TokenOptions: ParsableArguments {
    @Option(name: .customLong("input-tokens"), help: "Input (prompt) tokens.") var inputTokens: Int64
    @Option(name: .customLong("output-tokens"), help: "Output (completion) tokens.") var outputTokens: Int64
    @Option(name: .customLong("cache-read-tokens"), help: "Tokens read from the prompt cache.") var cacheReadTokens: Int64?
    @Option(name: .customLong("cache-write-tokens"), help: "Tokens written to the prompt cache.") var cacheWriteTokens: Int64?
    @Option(name: .customLong("reasoning-tokens"), help: "Reasoning tokens.") var reasoningTokens: Int64?

    func validate() throws {
        let all: [(String, Int64?)] = [
            ("--input-tokens", inputTokens), ("--output-tokens", outputTokens), ("--cache-read-tokens", cacheReadTokens),
            ("--cache-write-tokens", cacheWriteTokens), ("--reasoning-tokens", reasoningTokens),
        ]
        for (name, value) in all {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
    }

    var counts: ClientWire.TokenCounts {
        ClientWire.TokenCounts(
            inputTokens: inputTokens, outputTokens: outputTokens, cacheReadTokens: cacheReadTokens,
            cacheWriteTokens: cacheWriteTokens, reasoningTokens: reasoningTokens
        )
    }
}
