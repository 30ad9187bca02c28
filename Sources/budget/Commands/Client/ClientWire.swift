// The JSON the client commands send and read, as lenient Codable structs with explicit keys.
import Foundation

/// Any JSON scalar kept as display text: money stays the exact string the server sent.
struct WireText: Decodable, Sendable, CustomStringConvertible {
    var description: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            description = "-"
        } else if let string = try? container.decode(String.self) {
            description = string
        } else if let bool = try? container.decode(Bool.self) {
            description = String(bool)
        } else if let integer = try? container.decode(Int64.self) {
            description = String(integer)
        } else if let decimal = try? container.decode(Decimal.self) {
            // Decimal, not Double: a number is shown with the digits it was sent with.
            description = decimal.description
        } else {
            description = "…"
        }
    }
}

/// Field types are all optional so that a server adding or omitting a field never breaks a table.
enum ClientWire {
    struct Page<Item: Decodable & Sendable>: Decodable, Sendable {
        var items: [Item]?
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }
    }

    /// Decodes a response body; a body that does not match is reported, not crashed on.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ClientError.unreadable(String(decoding: data.prefix(200), as: UTF8.self))
        }
    }

    /// Only the paging member of a list answer.
    struct Cursor: Decodable, Sendable {
        var nextCursor: String?
        enum CodingKeys: String, CodingKey {
            case nextCursor = "next_cursor"
        }
    }

    struct ErrorEnvelope: Decodable, Sendable {
        var error: ErrorBody?
    }

    struct ErrorBody: Decodable, Sendable {
        var code: String?
        var message: String?
        var field: String?
        var limit: LimitState?
    }

    struct Budget: Decodable, Sendable {
        var id: WireText?
        var name: WireText?
        var owner: WireText?
        var description: WireText?
        var timezone: WireText?
        var active: WireText?
        var createdAt: WireText?
        var updatedAt: WireText?
        enum CodingKeys: String, CodingKey {
            case id, name, owner, description, timezone, active
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    /// The scope of a limit (single `tag`) or of a call (`tags`, session and task ids).
    struct Scope: Decodable, Sendable {
        var component: String?
        var provider: String?
        var model: String?
        var taskType: String?
        var tier: String?
        var tag: String?
        var tags: [String]?
        var sessionID: String?
        var taskID: String?
        enum CodingKeys: String, CodingKey {
            case component, provider, model, tier, tag, tags
            case taskType = "task_type"
            case sessionID = "session_id"
            case taskID = "task_id"
        }

        /// `component=rhetor provider=anthropic`, or `*` when the scope matches everything.
        var summary: String {
            var parts: [String] = []
            let named: [(String, String?)] = [
                ("component", component), ("provider", provider), ("model", model), ("task_type", taskType),
                ("tier", tier), ("tag", tag), ("session", sessionID), ("task", taskID),
            ]
            for (key, value) in named { if let value { parts.append("\(key)=\(value)") } }
            if let tags, !tags.isEmpty { parts.append("tags=\(tags.joined(separator: ","))") }
            return parts.isEmpty ? "*" : parts.joined(separator: " ")
        }
    }

    struct Limit: Decodable, Sendable {
        var id: WireText?
        var budgetID: WireText?
        var version: WireText?
        var scope: Scope?
        var period: WireText?
        var metric: WireText?
        var amount: WireText?
        var policy: WireText?
        var warnAt: WireText?
        var validFrom: WireText?
        var validTo: WireText?
        enum CodingKeys: String, CodingKey {
            case id, version, scope, period, metric, amount, policy
            case budgetID = "budget_id"
            case warnAt = "warn_at"
            case validFrom = "valid_from"
            case validTo = "valid_to"
        }
    }

    /// A limit's window as seen by an allocation, a denial or the status report.
    struct LimitState: Decodable, Sendable {
        var limitID: WireText?
        var budgetID: WireText?
        var budgetName: WireText?
        var scope: Scope?
        var period: WireText?
        var metric: WireText?
        var policy: WireText?
        var windowKey: WireText?
        var windowStart: WireText?
        var windowEnd: WireText?
        var amount: WireText?
        var spent: WireText?
        var reserved: WireText?
        var remaining: WireText?
        var state: WireText?
        enum CodingKeys: String, CodingKey {
            case scope, period, metric, policy, amount, spent, reserved, remaining, state
            case limitID = "limit_id"
            case budgetID = "budget_id"
            case budgetName = "budget_name"
            case windowKey = "window_key"
            case windowStart = "window_start"
            case windowEnd = "window_end"
        }
    }

    struct Allocation: Decodable, Sendable {
        var id: WireText?
        var status: WireText?
        var reservedCostUSD: WireText?
        var reservedTokens: WireText?
        var expiresAt: WireText?
        var warnings: [String]?
        var bypass: WireText?
        var priceID: WireText?
        var limits: [LimitState]?
        enum CodingKeys: String, CodingKey {
            case id, status, warnings, bypass, limits
            case reservedCostUSD = "reserved_cost_usd"
            case reservedTokens = "reserved_tokens"
            case expiresAt = "expires_at"
            case priceID = "price_id"
        }
    }

    struct Commit: Decodable, Sendable {
        var usageID: WireText?
        var costUSD: WireText?
        var pricingStatus: WireText?
        var priceID: WireText?
        var allocationID: WireText?
        var reservationExpired: WireText?
        enum CodingKeys: String, CodingKey {
            case usageID = "usage_id"
            case costUSD = "cost_usd"
            case pricingStatus = "pricing_status"
            case priceID = "price_id"
            case allocationID = "allocation_id"
            case reservationExpired = "reservation_expired"
        }
    }

    /// Just the id of a created object.
    struct Identified: Decodable, Sendable {
        var id: WireText?
    }

    struct Release: Decodable, Sendable {
        var id: WireText?
        var status: WireText?
    }

    struct TokenCounts: Codable, Sendable {
        var inputTokens: Int64?
        var outputTokens: Int64?
        var cacheReadTokens: Int64?
        var cacheWriteTokens: Int64?
        var reasoningTokens: Int64?
        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case cacheReadTokens = "cache_read_tokens"
            case cacheWriteTokens = "cache_write_tokens"
            case reasoningTokens = "reasoning_tokens"
        }
    }

    struct UsageRecord: Decodable, Sendable {
        var id: WireText?
        var occurredAt: WireText?
        var scope: Scope?
        var usage: TokenCounts?
        var costUSD: WireText?
        var pricingStatus: WireText?
        var priceID: WireText?
        var allocationID: WireText?
        var requestID: WireText?
        var origin: WireText?
        enum CodingKeys: String, CodingKey {
            case id, scope, usage, origin
            case occurredAt = "occurred_at"
            case costUSD = "cost_usd"
            case pricingStatus = "pricing_status"
            case priceID = "price_id"
            case allocationID = "allocation_id"
            case requestID = "request_id"
        }
    }

    // Request bodies: nil members are left out of the JSON by the synthesized encoder.

    struct CallScope: Encodable, Sendable {
        var component: String?
        var provider: String?
        var model: String?
        var taskType: String?
        var tier: String?
        var tags: [String]?
        var sessionID: String?
        var taskID: String?
        enum CodingKeys: String, CodingKey {
            case component, provider, model, tier, tags
            case taskType = "task_type"
            case sessionID = "session_id"
            case taskID = "task_id"
        }
    }

    struct LimitScope: Encodable, Sendable {
        var component: String?
        var provider: String?
        var model: String?
        var taskType: String?
        var tier: String?
        var tag: String?
        enum CodingKeys: String, CodingKey {
            case component, provider, model, tier, tag
            case taskType = "task_type"
        }
    }
}

extension Optional where Wrapped == WireText {
    /// The value for a table cell: `-` when the server left the field out.
    var cell: String { self?.description ?? "-" }
}

extension Optional where Wrapped == Int64 {
    var cell: String { self.map(String.init) ?? "-" }
}
