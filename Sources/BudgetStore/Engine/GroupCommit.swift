// Group commit of the hot path: allocate and commit calls go to the database as one
// `budget_engine_run` call (sql/migrations/0018_engine_run.sql, its loops as in 0019): a lone call as a batch of one,
// calls that arrive while earlier ones are in flight together as the next batch (one transaction,
// one WAL flush, one round trip, and a handful of statements whatever the number of calls).
// The task that sends a batch (the leader) runs on the executor it is given: `budget serve` gives
// it the database connections' own event loop, so a batch's answer is read, its callers resumed
// and the next batch sent on one thread, with no wait behind request handlers in the task pool.
import BudgetCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// One engine call as its SQL function takes it; JSON arguments are already encoded.
struct EngineCall: Sendable {
    enum Operation: Sendable {
        case allocate(allocation: String, windows: String)
        case commit(allocationID: UUID, record: String)
    }

    var operation: Operation
    var generation: Int64
    var idempotencyKey: String?
    var requestHash: String

    /// The argument of budget_engine_run: the calls as a JSON array, in order.
    static func batch(_ calls: some Collection<EngineCall>) -> String {
        var text = "["
        text.reserveCapacity(calls.reduce(2) { $0 + $1.elementSizeEstimate })
        for (index, call) in calls.enumerated() {
            if index > 0 { text += "," }
            call.appendBatchElement(to: &text)
        }
        return text + "]"
    }

    /// Room for the call's element in the batch: its JSON arguments and the members around them.
    private var elementSizeEstimate: Int {
        let arguments = switch operation {
        case .allocate(let allocation, let windows): allocation.utf8.count + windows.utf8.count
        case .commit(_, let record): record.utf8.count
        }
        return arguments + requestHash.utf8.count + (idempotencyKey?.utf8.count ?? 0) + 160
    }

    /// The call as an element of budget_engine_run's argument.
    private func appendBatchElement(to text: inout String) {
        switch operation {
        case .allocate(let allocation, let windows):
            text += #"{"op":"allocate","allocation":"# + allocation + #","windows":"# + windows
        case .commit(let allocationID, let record):
            text += #"{"op":"commit","allocation_id":""# + allocationID.lowercasedText + #"","record":"# + record
        }
        text += #","generation":"# + String(generation) + #","request_hash":"# + JSONText.quoted(requestHash)
        text += #","idempotency_key":"# + (idempotencyKey.map(JSONText.quoted) ?? "null") + "}"
    }
}

/// How calls went to the database since start-up.
public struct GroupCommitStatistics: Sendable, Equatable {
    /// Calls sent alone (nothing else was waiting).
    public var singleCalls = 0
    /// Batches of two or more calls, and the calls in them.
    public var batches = 0
    public var batchedCalls = 0
    /// Batches that failed as a whole and were run call by call.
    public var fallbacks = 0
}

/// Collects concurrent engine calls into batches; one batch runs at a time.
final class GroupCommitter: Sendable {
    private struct Waiting {
        var call: EngineCall
        var resume: @Sendable (Result<String, any Error>) -> Void
        var logger: Logger
    }

    private struct State {
        var queue: [Waiting] = []
        var leaders = 0
        var statistics = GroupCommitStatistics()
    }

    /// One batch in flight per process. The batches of a hot window run one after another in the
    /// database anyway (each holds the window's row until it commits); with one at a time they are
    /// bigger, so fewer transactions and WAL flushes per call. Set-based batches (0018) measured
    /// 1,643–1,857 pairs/s with one, 1,038–1,128 with two (docs/PERFORMANCE.md). Two stayed worse
    /// with a batch function that wrote its rows before locking the windows (2,000–2,080 against
    /// 2,585–2,957): the batches halve, and each costs about 1 ms in PostgreSQL whatever its size
    /// (docs/PERFORMANCE.md, "the lock taken late, tried again"). The price: a
    /// batch that waits on a lock (a window held by another instance's batch or a reset) holds up
    /// this process's calls for every budget until that lock is released.
    private static let maxInFlight = 1
    private static let maxBatch = 64

    private let client: PostgresClient
    /// Where a leader task runs (nil: the shared pool).
    private let leaderExecutor: (any TaskExecutor)?
    private let state = Mutex(State())

    init(client: PostgresClient, leaderExecutor: (any TaskExecutor)? = nil) {
        self.client = client
        self.leaderExecutor = leaderExecutor
    }

    var statistics: GroupCommitStatistics { state.withLock { $0.statistics } }

    /// Runs `call` (alone or in a batch) and returns its function's JSON answer.
    func run(_ call: EngineCall, logger: Logger) async throws -> String {
        // Nothing queued ahead of it and a slot free: the caller sends its own call, with no hop to another task.
        let alone = state.withLock { state in
            guard state.queue.isEmpty, state.leaders < Self.maxInFlight else { return false }
            state.leaders += 1
            state.statistics.singleCalls += 1
            return true
        }
        if alone {
            let result = await singleResult(call, logger: logger)
            handOff()
            return try result.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let lead = state.withLock { state in
                state.queue.append(Waiting(call: call, resume: { continuation.resume(with: $0) }, logger: logger))
                guard state.leaders < Self.maxInFlight else { return false }
                state.leaders += 1
                return true
            }
            if lead { Task(executorPreference: leaderExecutor) { await self.lead() } }
        }
    }

    /// A sender that is done passes its slot to a task that sends what queued meanwhile.
    private func handOff() {
        let queued = state.withLock { state in
            if state.queue.isEmpty { state.leaders -= 1 }
            return !state.queue.isEmpty
        }
        if queued { Task(executorPreference: leaderExecutor) { await self.lead() } }
    }

    private func lead() async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.leaders -= 1 }
                if batch.count > 1 {
                    state.statistics.batches += 1
                    state.statistics.batchedCalls += batch.count
                } else if batch.count == 1 {
                    state.statistics.singleCalls += 1
                }
                return batch
            }
            if batch.isEmpty { return }
            await send(batch)
        }
    }

    /// Sends `calls` as one batch now, whatever else is queued (tests pin batch behaviour with it).
    func sendTogether(_ calls: [EngineCall], logger: Logger) async -> [Result<String, any Error>] {
        let results = Mutex([Result<String, any Error>?](repeating: nil, count: calls.count))
        await send(calls.enumerated().map { index, call in
            Waiting(call: call, resume: { result in results.withLock { $0[index] = result } }, logger: logger)
        })
        return results.withLock { $0.map { $0 ?? .failure(StoreError(.corrupt, "no answer")) } }
    }

    /// Sends `batch` as one call of budget_engine_run. Calls with an idempotency key go with the
    /// others: the function takes their keys set-based too (0028); before, one keyed call sent its
    /// whole batch the per-call way, so keyed calls went in batches of their own.
    private func send(_ batch: [Waiting]) async {
        let logger = batch[0].logger
        if batch.count == 1 {
            let waiting = batch[0]
            waiting.resume(await singleResult(waiting.call, logger: logger))
            return
        }
        let payload = EngineCall.batch(batch.lazy.map(\.call))
        do {
            let answers = try await together(payload, count: batch.count, logger: logger)
            for (waiting, answer) in zip(batch, answers) { waiting.resume(.success(answer)) }
        } catch let error as PSQLError where error.code == .server {
            // The batch rolled back as a whole (a deadlock with another writer, a failing call):
            // each call runs on its own, so one failure stays with its caller.
            state.withLock { $0.statistics.fallbacks += 1 }
            logger.notice("engine batch failed; running its calls one by one",
                          metadata: ["calls": "\(batch.count)", "sqlstate": "\(error.serverInfo?[.sqlState] ?? "?")"])
            for waiting in batch {
                waiting.resume(await singleResult(waiting.call, logger: waiting.logger))
            }
        } catch {
            for waiting in batch { waiting.resume(.failure(error)) }
        }
    }

    private func singleResult(_ call: EngineCall, logger: Logger) async -> Result<String, any Error> {
        do {
            return .success(try await single(call, logger: logger))
        } catch {
            return .failure(error)
        }
    }

    // Both hold their connection while reading (Database/LeakSafeQuery.swift): a failed batch is
    // an expected event here.

    private func single(_ call: EngineCall, logger: Logger) async throws -> String {
        let answers = try await together(EngineCall.batch([call]), count: 1, logger: logger)
        return answers[0]
    }

    private func together(_ payload: String, count: Int, logger: Logger) async throws -> [String] {
        try await client.withLiveConnection { connection in
            var answers: [String] = []
            answers.reserveCapacity(count)
            for try await text in try await connection.execute(EngineRunStatement(payload: payload), logger: logger) { answers.append(text) }
            guard answers.count == count else {
                throw StoreError(.corrupt, "the engine batch answered \(answers.count) of \(count) calls")
            }
            return answers
        }
    }
}

/// The batch call as a named prepared statement: each connection parses and plans it once, not
/// once per batch, in the backend every batch on a hot window waits for.
struct EngineRunStatement: PostgresPreparedStatement {
    static let name = "budget_engine_run_batch"
    static let sql = "SELECT t.e::text FROM unnest(budget_engine_run($1::jsonb)) WITH ORDINALITY AS t(e, n) ORDER BY t.n"
    typealias Row = String

    /// The calls as a JSON array (`EngineCall.batch`).
    var payload: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(payload)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> String {
        try row.decode(String.self)
    }
}
