// The JSON the engine's SQL functions take and give back (sql/migrations/0003_engine_functions.sql).
import BudgetCore
import Foundation

/// One limit window a call touches, with what the call asks of it (`request`, in the limit's
/// metric) and, in answers, the window's counters.
public struct WindowSpec: Codable, Sendable, Hashable {
    public var limitID: UUID
    public var limitVersion: Int
    public var budgetID: UUID
    public var budgetName: String
    public var scope: ScopeFilter
    public var period: String
    public var metric: String
    public var policy: String
    public var warnAt: String
    /// The limit's further alert thresholds (decimal strings), if it has any.
    public var thresholds: [String]?
    public var amount: String
    public var windowKey: String
    public var windowStart: Date?
    public var windowEnd: Date?
    public var request: String
    public var spent: String?
    public var reserved: String?

    public init(_ applicable: ApplicableLimit, request: Decimal) {
        limitID = applicable.limit.id
        limitVersion = applicable.limit.version
        budgetID = applicable.budget.id
        budgetName = applicable.budget.name
        scope = applicable.limit.filter
        period = applicable.limit.period.rawValue
        metric = applicable.limit.metric.rawValue
        policy = applicable.limit.policy.rawValue
        warnAt = applicable.limit.warnAt.plainText
        thresholds = applicable.limit.thresholds?.map(\.plainText)
        amount = applicable.limit.amount.plainText
        windowKey = applicable.window.key
        windowStart = applicable.window.start
        windowEnd = applicable.window.end
        self.request = request.plainText
    }

    /// The order PostgreSQL locks windows in, `(limit_id, window_key COLLATE "C")`: a uuid sorts
    /// by its bytes (the order of its hex text), a key by its UTF-8 bytes. budget_allocate reports
    /// an allocation's limits in this order, and budget_engine_run in the order it is given them.
    static func inLockOrder(_ a: WindowSpec, _ b: WindowSpec) -> Bool {
        let left = a.limitID.uppercasedText, right = b.limitID.uppercasedText
        if left != right { return left.utf8.lexicographicallyPrecedes(right.utf8) }
        return a.windowKey.utf8.lexicographicallyPrecedes(b.windowKey.utf8)
    }

    enum CodingKeys: String, CodingKey {
        case limitID = "limit_id", limitVersion = "limit_version", budgetID = "budget_id", budgetName = "budget_name"
        case scope, period, metric, policy, amount, request, spent, reserved, thresholds
        case warnAt = "warn_at", windowKey = "window_key", windowStart = "window_start", windowEnd = "window_end"
    }
}

/// An allocation as the engine writes it.
public struct AllocationRow: Codable, Sendable, Hashable {
    public var id: UUID
    public var scope: Scope
    public var priority: Priority
    public var reservedCostUSD: String?
    public var reservedTokens: Int64
    public var priceID: UUID?
    public var expiresAt: Date
    public var requestID: String?
    public var metadata: JSONValue
    public var bypass: Bool?

    public init(id: UUID, scope: Scope, priority: Priority, reservedCostUSD: Decimal?, reservedTokens: Int64, priceID: UUID?,
                expiresAt: Date, requestID: String?, metadata: JSONValue) {
        self.id = id
        self.scope = scope
        self.priority = priority
        self.reservedCostUSD = reservedCostUSD?.plainText
        self.reservedTokens = reservedTokens
        self.priceID = priceID
        self.expiresAt = expiresAt
        self.requestID = requestID
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id, scope, priority, metadata, bypass
        case reservedCostUSD = "reserved_cost_usd", reservedTokens = "reserved_tokens", priceID = "price_id"
        case expiresAt = "expires_at", requestID = "request_id"
    }
}

/// One ledger row (a usage record), with the windows it counts against when written.
public struct LedgerRecord: Codable, Sendable, Hashable {
    public var id: UUID
    public var occurredAt: Date
    public var scope: Scope
    public var usage: TokenUsage
    public var costUSD: String?
    public var pricingStatus: PricingStatus
    public var priceID: UUID?
    public var allocationID: UUID?
    public var requestID: String?
    public var origin: String
    public var metadata: JSONValue
    public var windows: [WindowSpec]?
    /// For a reprice: the price version that priced the record before (nil: it was unpriced).
    public var previousPriceID: UUID?
    /// Made through the provider's batch API (its batch prices apply, also when it is priced again);
    /// nil for an ordinary call.
    public var batch: Bool?

    public init(id: UUID, occurredAt: Date, scope: Scope, usage: TokenUsage, cost: Decimal?, pricingStatus: PricingStatus, priceID: UUID?,
                allocationID: UUID?, requestID: String?, origin: String, metadata: JSONValue, windows: [WindowSpec]?, batch: Bool = false) {
        self.id = id
        self.occurredAt = occurredAt
        self.scope = scope
        self.usage = usage
        self.costUSD = cost?.plainText
        self.pricingStatus = pricingStatus
        self.priceID = priceID
        self.allocationID = allocationID
        self.requestID = requestID
        self.origin = origin
        self.metadata = metadata
        self.windows = windows
        self.batch = batch ? true : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, scope, usage, origin, metadata, windows, batch
        case occurredAt = "occurred_at", costUSD = "cost_usd", pricingStatus = "pricing_status", priceID = "price_id"
        case allocationID = "allocation_id", requestID = "request_id", previousPriceID = "previous_price_id"
    }
}

public enum AllocateOutcome: Sendable, Equatable {
    case granted(allocation: AllocationRow, limits: [WindowSpec], replayed: Bool)
    case denied(allocation: AllocationRow, deniedBy: WindowSpec, limits: [WindowSpec], replayed: Bool)
    case stale
    case idempotencyConflict
}

public enum CommitOutcome: Sendable, Equatable {
    case committed(record: LedgerRecord, reservationExpired: Bool, replayed: Bool)
    case notFound
    case conflict(String)
    case stale
    case idempotencyConflict
}

public enum ReleaseOutcome: Sendable {
    case released(status: String)
    case notFound
    case conflict(String)
}

public enum RecordOutcome: Sendable {
    case recorded(records: [LedgerRecord], replayed: Bool)
    case stale
    case idempotencyConflict
}

/// The JSON conventions shared with the SQL functions: ISO 8601 instants with fractional seconds.
enum EngineJSON {
    static let encoder = encoder(writingInstants: InstantFormat.string)

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = InstantFormat.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "bad instant \(text)")
            }
            return date
        }
        return decoder
    }()

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Instants with microseconds, for statements that find stored rows by their instant
    /// (budget_reprice matches each record's occurred_at): a row written with sub-millisecond
    /// precision, as a Rhetor import writes them, would not be found by its millisecond.
    static let exactInstantEncoder = encoder(writingInstants: InstantFormat.microseconds)

    static func encodeWithExactInstants(_ value: some Encodable) throws -> String {
        String(decoding: try exactInstantEncoder.encode(value), as: UTF8.self)
    }

    private static func encoder(writingInstants text: @escaping @Sendable (Date) -> String) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(text(date))
        }
        return encoder
    }
}
