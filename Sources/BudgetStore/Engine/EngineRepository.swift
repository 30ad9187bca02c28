// The hot path: allocate, commit, release, record usage, window states and the expiry sweep,
// each one call of a SQL function in one round trip.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct EngineRepository: Sendable {
    let client: PostgresClient
    let committer: GroupCommitter

    public init(client: PostgresClient) {
        self.client = client
        self.committer = GroupCommitter(client: client)
    }

    /// Decoded answer of budget_allocate / budget_commit / budget_record_usage.
    struct FunctionResult: Decodable {
        var outcome: String
        var allocation: AllocationRow?
        var limits: [WindowSpec]?
        var deniedBy: WindowSpec?
        var record: LedgerRecord?
        var records: [LedgerRecord]?
        var reservationExpired: Bool?
        var replayed: Bool?
        var message: String?
        var status: String?

        enum CodingKeys: String, CodingKey {
            case outcome, allocation, limits, record, records, replayed, message, status
            case deniedBy = "denied_by", reservationExpired = "reservation_expired"
        }
    }

    private func call(_ call: EngineCall, logger: Logger) async throws -> FunctionResult {
        let text = try await committer.run(call, logger: logger)
        return try EngineJSON.decoder.decode(FunctionResult.self, from: Data(text.utf8))
    }

    private func call(_ query: PostgresQuery, logger: Logger) async throws -> FunctionResult {
        let rows = try await client.query(query, logger: logger)
        for try await text in rows.decode(String.self) {
            return try EngineJSON.decoder.decode(FunctionResult.self, from: Data(text.utf8))
        }
        throw StoreError(.corrupt, "the engine function returned no row")
    }

    public func allocate(_ allocation: AllocationRow, windows: [WindowSpec], generation: Int64, idempotencyKey: String?, requestHash: String,
                         logger: Logger) async throws -> AllocateOutcome {
        let result = try await call(EngineCall(operation: .allocate(allocation: try EngineJSON.encode(allocation), windows: try EngineJSON.encode(windows.sorted(by: WindowSpec.inLockOrder))),
                                               generation: generation, idempotencyKey: idempotencyKey, requestHash: requestHash), logger: logger)
        switch result.outcome {
        case "granted":
            guard let row = result.allocation else { throw StoreError(.corrupt, "granted without allocation") }
            return .granted(allocation: row, limits: result.limits ?? [], replayed: result.replayed ?? false)
        case "denied":
            guard let row = result.allocation, let deniedBy = result.deniedBy else { throw StoreError(.corrupt, "denied without limit") }
            return .denied(allocation: row, deniedBy: deniedBy, limits: result.limits ?? [], replayed: result.replayed ?? false)
        case "stale": return .stale
        case "idempotency_conflict": return .idempotencyConflict
        default: throw StoreError(.corrupt, "unexpected allocate outcome \(result.outcome)")
        }
    }

    public func commit(allocationID: UUID, record: LedgerRecord, generation: Int64, requestHash: String, idempotencyKey: String?,
                       logger: Logger) async throws -> CommitOutcome {
        let result = try await call(EngineCall(operation: .commit(allocationID: allocationID, record: try EngineJSON.encode(record)),
                                               generation: generation, idempotencyKey: idempotencyKey, requestHash: requestHash), logger: logger)
        switch result.outcome {
        case "committed":
            guard let record = result.record else { throw StoreError(.corrupt, "committed without record") }
            return .committed(record: record, reservationExpired: result.reservationExpired ?? false, replayed: result.replayed ?? false)
        case "not_found": return .notFound
        case "conflict": return .conflict(result.message ?? "conflict")
        case "stale": return .stale
        case "idempotency_conflict": return .idempotencyConflict
        default: throw StoreError(.corrupt, "unexpected commit outcome \(result.outcome)")
        }
    }

    public func release(allocationID: UUID, logger: Logger) async throws -> ReleaseOutcome {
        let result = try await call("SELECT budget_release(\(allocationID))::text", logger: logger)
        switch result.outcome {
        case "released": return .released(status: result.status ?? "released")
        case "not_found": return .notFound
        case "conflict": return .conflict(result.message ?? "conflict")
        default: throw StoreError(.corrupt, "unexpected release outcome \(result.outcome)")
        }
    }

    public func record(_ records: [LedgerRecord], generation: Int64, idempotencyKey: String?, requestHash: String,
                       logger: Logger) async throws -> RecordOutcome {
        let result = try await call("""
            SELECT budget_record_usage(\(try EngineJSON.encode(records))::jsonb, \(generation), \(idempotencyKey), \(requestHash))::text
            """, logger: logger)
        switch result.outcome {
        case "recorded": return .recorded(records: result.records ?? [], replayed: result.replayed ?? false)
        case "stale": return .stale
        case "idempotency_conflict": return .idempotencyConflict
        default: throw StoreError(.corrupt, "unexpected record outcome \(result.outcome)")
        }
    }

    /// Counters of windows (existing, or computed from the ledger) without changing anything.
    public func states(of windows: [WindowSpec], logger: Logger) async throws -> [WindowSpec] {
        guard !windows.isEmpty else { return [] }
        let rows = try await client.query("SELECT budget_window_states(\(try EngineJSON.encode(windows))::jsonb)::text", logger: logger)
        for try await text in rows.decode(String.self) {
            return try EngineJSON.decoder.decode([WindowSpec].self, from: Data(text.utf8))
        }
        return []
    }

    /// Releases expired reservations; returns how many.
    public func expireAllocations(logger: Logger) async throws -> Int {
        let rows = try await client.query("SELECT budget_expire_allocations(500)", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Creates the ledger's monthly partitions ahead of time.
    public func ensurePartitions(monthsAhead: Int, logger: Logger) async throws {
        try await client.query("SELECT ensure_usage_partitions(\(monthsAhead)::integer)", logger: logger)
    }
}
