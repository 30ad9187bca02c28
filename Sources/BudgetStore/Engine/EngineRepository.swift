// The hot path: allocate, commit, release, record usage, window states and the expiry sweep,
// each one call of a SQL function in one round trip.
import BudgetCore
import Foundation
import Logging
import PostgresNIO

public struct EngineRepository: Sendable {
    let client: PostgresClient
    let committer: GroupCommitter

    /// `batchExecutor`: where group-commit leaders run; the event loop of `client`'s connections
    /// is best (see EventLoopTaskExecutor).
    public init(client: PostgresClient, batchExecutor: (any TaskExecutor)? = nil) {
        self.client = client
        self.committer = GroupCommitter(client: client, leaderExecutor: batchExecutor)
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

    private func call(_ query: PostgresQuery, logger: Logger) async throws -> FunctionResult {
        let rows = try await client.collect(query, logger: logger)
        for try await text in rows.decode(String.self) {
            return try EngineJSON.decoder.decode(FunctionResult.self, from: Data(text.utf8))
        }
        throw StoreError(.corrupt, "the engine function returned no row")
    }

    public func allocate(_ allocation: AllocationRow, windows: [WindowSpec], generation: Int64, idempotencyKey: String?, requestHash: String,
                         logger: Logger) async throws -> AllocateOutcome {
        let windows = windows.sorted(by: WindowSpec.inLockOrder)
        let answer = try await committer.run(EngineCall(operation: .allocate(allocation: try EngineJSON.text(allocation), windows: try EngineJSON.text(windows)),
                                                        generation: generation, idempotencyKey: idempotencyKey, requestHash: requestHash), logger: logger)
        return try Self.allocateOutcome(answer, allocation: allocation, windows: windows)
    }

    /// An allocate answer of budget_engine_run: a compact one (0018) completed with what was sent,
    /// or the JSON object budget_allocate gives.
    static func allocateOutcome(_ answer: String, allocation: AllocationRow, windows: [WindowSpec]) throws -> AllocateOutcome {
        if let fields = CompactAnswer.fields(of: answer) {
            switch fields.first {
            case "granted" where fields.count == 3:
                var granted = allocation.asStored
                granted.bypass = !fields[2].isEmpty
                return .granted(allocation: granted, limits: try CompactAnswer.counted(windows, fields[1]), replayed: false)
            case "denied" where fields.count == 3:
                let limits = try CompactAnswer.counted(windows, fields[2])
                guard let position = Int(fields[1]), limits.indices.contains(position - 1) else {
                    throw StoreError(.corrupt, "denied by window \(fields[1]) of \(limits.count)")
                }
                return .denied(allocation: allocation.asStored, deniedBy: limits[position - 1], limits: limits, replayed: false)
            default:
                throw StoreError(.corrupt, "unexpected allocate answer \(answer)")
            }
        }
        let result = try EngineJSON.decoder.decode(FunctionResult.self, from: Data(answer.utf8))
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
        let answer = try await committer.run(EngineCall(operation: .commit(allocationID: allocationID, record: try EngineJSON.text(record)),
                                                        generation: generation, idempotencyKey: idempotencyKey, requestHash: requestHash), logger: logger)
        return try Self.commitOutcome(answer, record: record)
    }

    /// A commit answer of budget_engine_run: "committed|t" (the reservation had expired) or
    /// "committed|f" completed with the record sent,
    /// or the JSON object budget_commit gives (a replay, a conflict, …).
    static func commitOutcome(_ answer: String, record: LedgerRecord) throws -> CommitOutcome {
        if let fields = CompactAnswer.fields(of: answer) {
            guard fields.count == 2, fields[0] == "committed", fields[1] == "t" || fields[1] == "f" else {
                throw StoreError(.corrupt, "unexpected commit answer \(answer)")
            }
            var stored = record
            stored.windows = nil
            stored.occurredAt = EngineJSON.asStored(record.occurredAt)
            return .committed(record: stored, reservationExpired: fields[1] == "t", replayed: false)
        }
        let result = try EngineJSON.decoder.decode(FunctionResult.self, from: Data(answer.utf8))
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
            SELECT budget_record_usage(\(try EngineJSON.text(records))::jsonb, \(generation), \(idempotencyKey), \(requestHash))::text
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
        let rows = try await client.collect("SELECT budget_window_states(\(try EngineJSON.text(windows))::jsonb)::text", logger: logger)
        for try await text in rows.decode(String.self) {
            return try EngineJSON.decoder.decode([WindowSpec].self, from: Data(text.utf8))
        }
        return []
    }

    /// Releases expired reservations; returns how many.
    public func expireAllocations(logger: Logger) async throws -> Int {
        let rows = try await client.collect("SELECT budget_expire_allocations(500)", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Creates the ledger's monthly partitions ahead of time.
    public func ensurePartitions(monthsAhead: Int, logger: Logger) async throws {
        try await client.perform("SELECT ensure_usage_partitions(\(monthsAhead)::integer)", logger: logger)
    }
}

extension EngineJSON {
    /// An instant as the engine's JSON carries it to the database and back: to the millisecond.
    static func asStored(_ instant: Date) -> Date {
        InstantFormat.parse(InstantFormat.string(instant)) ?? instant
    }
}

extension AllocationRow {
    /// As the database keeps it (and an answer read back from it gives it).
    var asStored: AllocationRow {
        var stored = self
        stored.expiresAt = EngineJSON.asStored(expiresAt)
        return stored
    }
}

/// The compact answers of budget_engine_run: a JSON string of "|"-separated fields.
enum CompactAnswer {
    /// The fields of a compact answer; nil when the answer is a JSON object.
    static func fields(of answer: String) -> [Substring]? {
        guard answer.utf8.first == UInt8(ascii: "\""), answer.utf8.last == UInt8(ascii: "\""), answer.utf8.count >= 2 else { return nil }
        return answer.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
    }

    /// `windows` with their counters from "<spent> <reserved> …", in order.
    static func counted(_ windows: [WindowSpec], _ counters: Substring) throws -> [WindowSpec] {
        let values = counters.split(separator: " ")
        guard values.count == 2 * windows.count else {
            throw StoreError(.corrupt, "\(values.count) counters for \(windows.count) windows")
        }
        return windows.enumerated().map { index, window in
            var counted = window
            counted.spent = String(values[2 * index])
            counted.reserved = String(values[2 * index + 1])
            return counted
        }
    }
}
