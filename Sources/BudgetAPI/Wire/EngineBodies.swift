// Request bodies of the engine routes and their validation into BudgetCore values.
import BudgetCore
import BudgetPricing
import BudgetStore
import Foundation

struct ScopeBody: Decodable, Equatable {
    var component: String?
    var provider: String?
    var model: String?
    var taskType: String?
    var tier: String?
    var tags: [String]?
    var sessionID: String?
    var taskID: String?
    enum CodingKeys: String, CodingKey {
        case component, provider, model, tier, tags, taskType = "task_type", sessionID = "session_id", taskID = "task_id"
    }

    func scope() throws -> Scope {
        for (name, value) in [("component", component), ("provider", provider), ("model", model), ("task_type", taskType),
                              ("tier", tier), ("session_id", sessionID), ("task_id", taskID)] {
            if let value, value.count > 500 { throw APIError.badRequest("scope.\(name) is longer than 500 characters", field: "scope.\(name)") }
        }
        return Scope(component: component, provider: provider, model: model, taskType: taskType, tier: tier, tags: tags ?? [],
                     sessionID: sessionID, taskID: taskID)
    }
}

struct UsageBody: Decodable, Equatable {
    var inputTokens: Int64?
    var outputTokens: Int64?
    var cacheReadTokens: Int64?
    var cacheWriteTokens: Int64?
    var reasoningTokens: Int64?
    /// Counts as the provider reported them: `openai` (cached input inside input_tokens), `google`
    /// (thinking apart from output), `anthropic` or absent (Budget's own convention).
    var reportedAs: String?
    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens", outputTokens = "output_tokens", cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens", reasoningTokens = "reasoning_tokens", reportedAs = "reported_as"
    }

    func usage(field prefix: String) throws -> TokenUsage {
        var usage = TokenUsage(input: inputTokens ?? 0, output: outputTokens ?? 0, cacheRead: cacheReadTokens ?? 0,
                               cacheWrite: cacheWriteTokens ?? 0, reasoning: reasoningTokens ?? 0)
        for (name, value) in [("input_tokens", usage.input), ("output_tokens", usage.output), ("cache_read_tokens", usage.cacheRead),
                              ("cache_write_tokens", usage.cacheWrite), ("reasoning_tokens", usage.reasoning)] {
            try requireNonNegative(value, field: "\(prefix).\(name)")
        }
        if let reportedAs {
            guard let convention = UsageConvention(rawValue: reportedAs), convention != .normalised else {
                throw APIError.badRequest("\(prefix).reported_as must be openai, anthropic or google", field: "\(prefix).reported_as")
            }
            do {
                let counts = try BudgetPricing.CostCalculator.normalise(
                    reported: TokenCounts(input: usage.input, output: usage.output, cacheRead: usage.cacheRead, cacheWrite: usage.cacheWrite, reasoning: usage.reasoning),
                    convention: convention)
                usage = TokenUsage(input: counts.input, output: counts.output, cacheRead: counts.cacheRead, cacheWrite: counts.cacheWrite, reasoning: counts.reasoning)
            } catch {
                throw APIError.badRequest("\(prefix): these counts cannot come from \(reportedAs): \(error)", field: prefix)
            }
        }
        guard usage.reasoning <= usage.output else {
            throw APIError.badRequest("reasoning_tokens are part of output_tokens, so they cannot exceed them", field: "\(prefix).reasoning_tokens")
        }
        guard usage.total != nil else { throw APIError.badRequest("the token counts add up to more than 2^63-1", field: prefix) }
        return usage
    }
}

struct EstimateBody: Decodable, Equatable {
    var inputTokens: Int64?
    var maxOutputTokens: Int64?
    var costUSD: DecimalInput?
    enum CodingKeys: String, CodingKey { case inputTokens = "input_tokens", maxOutputTokens = "max_output_tokens", costUSD = "cost_usd" }
}

/// POST /allocations and POST /check.
struct AllocateBody: Decodable, Equatable {
    var scope: ScopeBody?
    var estimate: EstimateBody?
    var ttlSeconds: Int?
    var priority: String?
    var requestID: String?
    var metadata: JSONValue?
    enum CodingKeys: String, CodingKey { case scope, estimate, priority, metadata, ttlSeconds = "ttl_seconds", requestID = "request_id" }

    func request() throws -> BudgetEngine.AllocationRequest {
        guard let scopeBody = scope else { throw APIError.badRequest("scope is required", field: "scope") }
        guard let estimate else { throw APIError.badRequest("estimate is required (tokens and/or cost_usd)", field: "estimate") }
        let input = estimate.inputTokens ?? 0
        let output = estimate.maxOutputTokens ?? 0
        try requireNonNegative(input, field: "estimate.input_tokens")
        try requireNonNegative(output, field: "estimate.max_output_tokens")
        if let cost = estimate.costUSD?.value, cost < 0 {
            throw APIError.badRequest("estimate.cost_usd must not be negative", field: "estimate.cost_usd")
        }
        if estimate.inputTokens == nil && estimate.maxOutputTokens == nil && estimate.costUSD == nil {
            throw APIError.badRequest("estimate needs input_tokens/max_output_tokens or cost_usd", field: "estimate")
        }
        let ttl = ttlSeconds ?? 600
        guard (1...86_400).contains(ttl) else { throw APIError.badRequest("ttl_seconds must be between 1 and 86400", field: "ttl_seconds") }
        return BudgetEngine.AllocationRequest(
            scope: try scopeBody.scope(),
            estimate: Estimate(inputTokens: input, maxOutputTokens: output, costUSD: estimate.costUSD?.value),
            ttlSeconds: ttl,
            priority: try parseEnum(priority, Priority.self, field: "priority", default: .normal),
            requestID: requestID,
            metadata: try validMetadata(metadata)
        )
    }
}

struct CommitBody: Decodable, Equatable {
    var usage: UsageBody?
    var provider: String?
    var model: String?
    var costUSD: DecimalInput?
    var occurredAt: Date?
    var requestID: String?
    var metadata: JSONValue?
    var batch: Bool?
    enum CodingKeys: String, CodingKey {
        case usage, provider, model, metadata, batch, costUSD = "cost_usd", occurredAt = "occurred_at", requestID = "request_id"
    }

    func input() throws -> BudgetEngine.CommitInput {
        guard let usage else { throw APIError.badRequest("usage is required", field: "usage") }
        if let cost = costUSD?.value, cost < 0 { throw APIError.badRequest("cost_usd must not be negative", field: "cost_usd") }
        return BudgetEngine.CommitInput(usage: try usage.usage(field: "usage"), provider: provider, model: model, costUSD: costUSD?.value,
                                        occurredAt: occurredAt, requestID: requestID, metadata: try validMetadata(metadata), batch: batch ?? false)
    }
}

/// One record of POST /usage (and of a batch).
struct UsageRecordBody: Decodable {
    var occurredAt: Date?
    var scope: ScopeBody?
    var usage: UsageBody?
    var costUSD: DecimalInput?
    var requestID: String?
    var metadata: JSONValue?
    var batch: Bool?
    enum CodingKeys: String, CodingKey { case scope, usage, metadata, batch, occurredAt = "occurred_at", costUSD = "cost_usd", requestID = "request_id" }

    func input(field prefix: String) throws -> BudgetEngine.UsageInput {
        let at = prefix.isEmpty ? "" : prefix + "."
        guard let scope else { throw APIError.badRequest("\(at)scope is required", field: "\(at)scope") }
        guard let usage else { throw APIError.badRequest("\(at)usage is required", field: "\(at)usage") }
        if let cost = costUSD?.value, cost < 0 { throw APIError.badRequest("\(at)cost_usd must not be negative", field: "\(at)cost_usd") }
        return BudgetEngine.UsageInput(occurredAt: occurredAt, scope: try scope.scope(), usage: try usage.usage(field: "\(at)usage"),
                                       costUSD: costUSD?.value, requestID: requestID, metadata: try validMetadata(metadata, field: "\(at)metadata"),
                                       batch: batch ?? false)
    }
}

struct BatchBody: Decodable {
    var records: [UsageRecordBody]?
}

func validMetadata(_ metadata: JSONValue?, field: String = "metadata") throws -> JSONValue {
    switch metadata {
    case nil, .null?: return .object([:])
    case .object?: return metadata!
    default: throw APIError.badRequest("\(field) must be a JSON object", field: field)
    }
}
