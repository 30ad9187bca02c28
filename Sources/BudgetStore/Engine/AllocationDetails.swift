// Reading allocations and the ledger back (GET /allocations/{id}, GET /usage).
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct AllocationDetails: Sendable, Hashable {
    public var id: UUID
    public var status: String
    public var scope: Scope
    public var priority: String
    public var reservedCostUSD: Decimal?
    public var reservedTokens: Int64
    public var priceID: UUID?
    public var bypass: Bool
    public var createdAt: Date
    public var expiresAt: Date
    public var finishedAt: Date?
    public var usageID: UUID?
    public var requestID: String?
}

public struct UsageQuery: Sendable {
    public var from: Date?
    public var to: Date?
    public var component: String?
    public var provider: String?
    public var model: String?
    /// Keyset cursor: the (occurred_at in microseconds since 1970, id) of the last record of the previous page.
    public var after: (Int64, UUID)?
    public var limit: Int
    /// Only rows recorded as `unpriced`.
    public var onlyUnpriced = false
    /// Only rows priced by this price version.
    public var pricedBy: UUID?
    /// Oldest first (the cursor then moves forward in time).
    public var oldestFirst = false

    public init(from: Date? = nil, to: Date? = nil, component: String? = nil, provider: String? = nil, model: String? = nil, after: (Int64, UUID)? = nil, limit: Int = 100) {
        self.from = from
        self.to = to
        self.component = component
        self.provider = provider
        self.model = model
        self.after = after
        self.limit = limit
    }
}

extension EngineRepository {
    public func allocation(_ id: UUID, logger: Logger) async throws -> AllocationDetails? {
        let rows = try await client.collect("""
            SELECT id, status, component, provider, model, task_type, tier, tags, session_id, task_id, priority, reserved_cost_usd,
                   reserved_tokens, price_id, bypass, created_at, expires_at, finished_at, usage_id, request_id
            FROM allocations WHERE id = \(id)
            """, logger: logger)
        for try await row in rows {
            let (id, status, component, provider, model, taskType, tier, tags, session, task,
                 priority, cost, tokens, priceID, bypass, created, expires, finished, usageID, requestID) = try row.decode(
                (UUID, String, String?, String?, String?, String?, String?, [String], String?, String?,
                 String, Decimal?, Int64, UUID?, Bool, Date, Date, Date?, UUID?, String?).self)
            // An active allocation past its TTL is expired whether or not the sweeper has run yet.
            let effectiveStatus = status == "active" && expires <= Date() ? "expired" : status
            return AllocationDetails(
                id: id, status: effectiveStatus,
                scope: Scope(component: component, provider: provider, model: model, taskType: taskType, tier: tier, tags: tags, sessionID: session, taskID: task),
                priority: priority, reservedCostUSD: cost, reservedTokens: tokens, priceID: priceID, bypass: bypass,
                createdAt: created, expiresAt: expires, finishedAt: finished, usageID: usageID, requestID: requestID)
        }
        return nil
    }

    /// Ledger rows, one page (newest first, or oldest first for repricing), each with its keyset
    /// position (exact microseconds). Two statements rather than one with a computed ORDER BY, so
    /// that each can walk the (occurred_at, id) index.
    public func usage(_ query: UsageQuery, logger: Logger) async throws -> [(record: LedgerRecord, position: Int64)] {
        let afterMicros = query.after?.0
        let afterID = query.after?.1
        let rows: CollectedRows
        if query.oldestFirst {
            rows = try await client.collect("""
                SELECT id, occurred_at, component, provider, model, task_type, tier, tags, session_id, task_id,
                       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                       cost_usd, pricing_status, price_id, allocation_id, request_id, origin, metadata::text,
                       (extract(epoch FROM occurred_at) * 1000000)::bigint, batch
                FROM usage_records
                WHERE (\(query.from)::timestamptz IS NULL OR occurred_at >= \(query.from))
                  AND (\(query.to)::timestamptz IS NULL OR occurred_at < \(query.to))
                  AND (NOT \(query.onlyUnpriced) OR pricing_status = 'unpriced')
                  AND (\(query.pricedBy)::uuid IS NULL OR price_id = \(query.pricedBy))
                  AND (\(afterMicros)::bigint IS NULL
                       OR (occurred_at, id) > (timestamptz 'epoch' + \(afterMicros)::bigint * interval '1 microsecond', \(afterID)))
                ORDER BY occurred_at, id
                LIMIT \(query.limit)
                """, logger: logger)
        } else {
            rows = try await client.collect("""
                SELECT id, occurred_at, component, provider, model, task_type, tier, tags, session_id, task_id,
                       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
                       cost_usd, pricing_status, price_id, allocation_id, request_id, origin, metadata::text,
                       (extract(epoch FROM occurred_at) * 1000000)::bigint, batch
                FROM usage_records
                WHERE (\(query.from)::timestamptz IS NULL OR occurred_at >= \(query.from))
                  AND (\(query.to)::timestamptz IS NULL OR occurred_at < \(query.to))
                  AND (\(query.component)::text IS NULL OR component = \(query.component))
                  AND (\(query.provider)::text IS NULL OR provider_key = lower(btrim(\(query.provider))))
                  AND (\(query.model)::text IS NULL OR model_key = lower(btrim(\(query.model))))
                  AND (NOT \(query.onlyUnpriced) OR pricing_status = 'unpriced')
                  AND (\(afterMicros)::bigint IS NULL
                       OR (occurred_at, id) < (timestamptz 'epoch' + \(afterMicros)::bigint * interval '1 microsecond', \(afterID)))
                ORDER BY occurred_at DESC, id DESC
                LIMIT \(query.limit)
                """, logger: logger)
        }
        return try await Self.ledgerRecords(rows)
    }

    /// Decodes ledger rows selected in the column order of the queries above (and the reprice
    /// pass's): each record with its keyset position.
    static func ledgerRecords(_ rows: CollectedRows) async throws -> [(record: LedgerRecord, position: Int64)] {
        var records: [(record: LedgerRecord, position: Int64)] = []
        for try await row in rows {
            let (id, occurred, component, provider, model, taskType, tier, tags, session, task,
                 input, output, cacheRead, cacheWrite, reasoning,
                 cost, status, priceID, allocationID, requestID, origin, metadata, position, batch) = try row.decode(
                (UUID, Date, String?, String?, String?, String?, String?, [String], String?, String?,
                 Int64, Int64, Int64, Int64, Int64,
                 Decimal?, String, UUID?, UUID?, String?, String, String, Int64, Bool).self)
            records.append((LedgerRecord(
                id: id, occurredAt: occurred,
                scope: Scope(component: component, provider: provider, model: model, taskType: taskType, tier: tier, tags: tags, sessionID: session, taskID: task),
                usage: TokenUsage(input: input, output: output, cacheRead: cacheRead, cacheWrite: cacheWrite, reasoning: reasoning),
                cost: cost, pricingStatus: PricingStatus(rawValue: status) ?? .unpriced, priceID: priceID, allocationID: allocationID,
                requestID: requestID, origin: origin,
                metadata: try JSONDecoder().decode(JSONValue.self, from: Data(metadata.utf8)),
                windows: nil, batch: batch), position))
        }
        return records
    }
}
