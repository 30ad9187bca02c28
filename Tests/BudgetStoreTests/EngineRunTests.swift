@testable import BudgetStore
import BudgetCore
import BudgetTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// budget_engine_run (0018) decides a batch in memory and writes it set-based; budget_engine_batch
/// (0016) runs the same calls through budget_allocate / budget_commit, the reference. The same
/// batch, run each way from the same state (each in a transaction that is rolled back), must give
/// the same outcomes (run's compact answers completed as the repository completes them) and leave
/// the same rows.
@Suite("Engine run: a set-based batch answers and writes exactly as the calls run one by one")
struct EngineRunTests {
    let logger = Logger(label: "BudgetStoreTests")
    let scope = Scope(component: "eq", provider: "p", model: "m", tags: ["nightly"], sessionID: "s-1")

    /// Everything the engine writes, without the instants that come from now().
    static let snapshot: PostgresQuery = """
        SELECT jsonb_build_object(
            'windows', (SELECT jsonb_agg(jsonb_build_object('limit_id', limit_id, 'window_key', window_key, 'spent', spent::text,
                                                            'reserved', reserved::text, 'warned', warned_at IS NOT NULL,
                                                            'exceeded', exceeded_at IS NOT NULL, 'alerted', alerted_thresholds)
                                         ORDER BY limit_id, window_key) FROM limit_windows),
            'allocations', (SELECT jsonb_agg(to_jsonb(a) - 'created_at' - 'finished_at' || jsonb_build_object('finished', a.finished_at IS NOT NULL)
                                             ORDER BY a.id) FROM allocations a),
            'shares', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.allocation_id, s.limit_id, s.window_key) FROM allocation_windows s),
            'usage', (SELECT jsonb_agg(to_jsonb(u) - 'recorded_at' ORDER BY u.id) FROM usage_records u),
            'events', (SELECT jsonb_agg(to_jsonb(e) - 'id' - 'first_at' - 'last_at' ORDER BY e.dedupe_key) FROM budget_events e),
            'keys', (SELECT jsonb_agg(to_jsonb(k) - 'created_at' ORDER BY k.operation, k.key) FROM idempotency_keys k),
            'rollups', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.component, d.provider, d.model)
                        FROM (SELECT component, provider, model, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                                     sum(cost_usd)::text AS cost_usd, sum(records) AS records, sum(unpriced_records) AS unpriced_records
                              FROM usage_rollup_deltas GROUP BY component, provider, model) d)
        )::text
        """

    func run(_ client: PostgresClient, _ function: String, _ payload: String) async throws -> (answers: String, state: String) {
        try await client.withConnection { connection in
            func text(_ query: PostgresQuery) async throws -> String {
                var value: String?
                for try await row in try await connection.query(query, logger: logger).decode(String.self) { value = row }
                return try #require(value)
            }
            try await connection.query("BEGIN", logger: logger)
            let answers = function == "budget_engine_run"
                ? try await text("SELECT to_jsonb(budget_engine_run(\(payload)::jsonb))::text")
                : try await text("SELECT budget_engine_batch(\(payload)::jsonb)::text")
            let state = try await text(Self.snapshot)
            try await connection.query("ROLLBACK", logger: logger)
            return (answers, state)
        }
    }

    func same(_ client: PostgresClient, _ left: String, _ right: String) async throws -> Bool {
        for try await equal in try await client.query("SELECT \(left)::jsonb = \(right)::jsonb", logger: logger).decode(Bool.self) {
            return equal
        }
        return false
    }

    @Test func aMixedBatchGivesTheAnswersRowsAndKeptAnswersOfTheCallsRunOneByOne() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint) { client in
            let budget = try await BudgetRepository(client: client).create(name: "eq", owner: nil, description: nil, timeZone: "UTC", active: true, logger: logger)
            let limits = LimitRepository(client: client)
            _ = try await limits.create(budgetID: budget.id, filter: ScopeFilter(component: "eq"), period: .daily, metric: .costUSD, amount: 1,
                                        policy: .enforce, warnAt: 0.9, thresholds: [0.25, 0.5], by: nil, logger: logger)
            _ = try await limits.create(budgetID: budget.id, filter: ScopeFilter(component: "eq"), period: .daily, metric: .costUSD, amount: 1.5,
                                        policy: .warn, warnAt: 0.8, by: nil, logger: logger)
            let engine = BudgetEngine(client: client, logger: logger)

            func allocate(_ cost: Decimal, key: String? = nil, hash: String = UUID().uuidString) async throws -> UUID {
                let outcome = try await engine.allocate(.init(scope: scope, estimate: Estimate(costUSD: cost), ttlSeconds: 600, priority: .normal,
                                                              requestID: "r", metadata: .object(["k": .string("v")])),
                                                        idempotencyKey: key, requestHash: hash, logger: logger)
                guard case .granted(let row, _, _) = outcome else { throw StoreError(.corrupt, "set-up allocation refused") }
                return row.id
            }
            func sql(_ query: PostgresQuery) async throws { try await client.query(query, logger: logger) }

            // The state before the batch: spent 0.05, reserved 0.18 on both limits' windows.
            let committed = try await allocate(0.05)
            _ = try await engine.commit(allocationID: committed, .init(usage: TokenUsage(input: 10), provider: nil, model: nil, costUSD: 0.05,
                                                                       occurredAt: nil, requestID: nil, metadata: .object([:])),
                                        idempotencyKey: nil, requestHash: "h1", logger: logger)
            let released = try await allocate(0.05)
            _ = try await engine.release(allocationID: released, logger: logger)
            let active = try await allocate(0.10)
            let swept = try await allocate(0.05)
            try await sql("UPDATE allocations SET expires_at = now() - interval '1 second' WHERE id = \(swept)")
            try await sql("SELECT budget_expire_allocations(500)")
            let overdue = try await allocate(0.05)
            try await sql("UPDATE allocations SET expires_at = now() - interval '1 second' WHERE id = \(overdue)")
            let unpriced = try await allocate(0.01)
            let big = try await allocate(0.02)
            let late = try await allocate(0.03)
            // Keys used before the batch: two allocates, and a commit.
            _ = try await allocate(0.01, key: "used-1", hash: "hash-used-1")
            _ = try await allocate(0.01, key: "used-2", hash: "hash-used-2")
            let keyedCommitted = try await allocate(0.01)
            _ = try await engine.commit(allocationID: keyedCommitted, .init(usage: TokenUsage(input: 1), provider: nil, model: nil, costUSD: 0.01,
                                                                            occurredAt: nil, requestID: nil, metadata: .object([:])),
                                        idempotencyKey: "used-c", requestHash: "hash-used-c", logger: logger)
            let keyedActive = try await allocate(0.01)
            let keyedReleased = try await allocate(0.01)
            _ = try await engine.release(allocationID: keyedReleased, logger: logger)
            let keyedReplay = try await allocate(0.01)
            _ = try await engine.commit(allocationID: keyedReplay, .init(usage: TokenUsage(input: 1), provider: nil, model: nil, costUSD: 0.01,
                                                                         occurredAt: nil, requestID: nil, metadata: .object([:])),
                                        idempotencyKey: nil, requestHash: "h2", logger: logger)

            let catalog = try await engine.catalog.current()
            let generation = catalog.generation
            func allocation(_ cost: Decimal, priority: Priority = .normal, generation: Int64 = generation, key: String? = nil,
                            hash: String? = nil) throws -> Sent {
                let plan = try AllocationPlanner.plan(scope: scope, estimate: Estimate(costUSD: cost), catalog: catalog, at: Date())
                let row = AllocationRow(id: UUID(), scope: scope, priority: priority, reservedCostUSD: plan.estimatedCost,
                                        reservedTokens: plan.estimatedTokens, priceID: nil, expiresAt: Date().addingTimeInterval(600),
                                        requestID: "req", metadata: .object(["n": .number("1")]))
                let windows = plan.reservations.map { WindowSpec($0.applicable, request: $0.amount) }.sorted(by: WindowSpec.inLockOrder)
                return .allocate(EngineCall(operation: .allocate(allocation: try EngineJSON.encode(row), windows: try EngineJSON.encode(windows)),
                                            generation: generation, idempotencyKey: key, requestHash: hash ?? "a-\(row.id)"), row, windows)
            }
            func commit(_ id: UUID, _ cost: Decimal?, hash: String? = nil, at occurredAt: Date? = nil, key: String? = nil) throws -> Sent {
                let record = engine.ledgerRecord(for: .init(occurredAt: occurredAt, scope: scope, usage: TokenUsage(input: 100, output: 7), costUSD: cost,
                                                            requestID: "req", metadata: .object([:])),
                                                 allocationID: id, catalog: catalog, now: Date())
                return .commit(EngineCall(operation: .commit(allocationID: id, record: try EngineJSON.encode(record)),
                                          generation: generation, idempotencyKey: key, requestHash: hash ?? "c-\(id)"), record)
            }

            let calls = [
                // Calls with an Idempotency-Key (first, while the enforce limit has room): their answers are kept with their keys.
                try allocation(0.02, key: "new-granted"),
                try allocation(0.90, key: "new-denied"),
                try allocation(0.01, key: "used-1", hash: "hash-used-1"),   // the kept answer, replayed
                try allocation(0.01, key: "used-2", hash: "another-body"),  // another request with that key
                try commit(keyedActive, 0.01, key: "new-commit"),
                try commit(keyedReleased, 0.01, key: "new-conflict"),          // a conflict, kept
                try commit(keyedReplay, 0.01, hash: "h2", key: "new-replay"),  // committed before with this body, kept
                try commit(keyedCommitted, 0.01, hash: "hash-used-c", key: "used-c"),
                try allocation(0.01, generation: generation - 1, key: "stale-key"),   // stale: the key is not taken
                try commit(UUID(), 0.01, key: "new-unknown"),
                // Calls without keys.
                try commit(active, 0.30),                     // spent 0.35: the 0.25 threshold of the enforce limit
                try allocation(0.20),                         // 0.35 + 0.08 + 0.20 ≤ 1: granted
                try commit(committed, 0.05, hash: "h1"),      // already committed with this body: its first answer
                try commit(released, 0.05),                   // released: conflict
                try commit(UUID(), 0.05),                     // unknown
                try commit(swept, 0.05),                      // expired by the sweeper: recorded, nothing to free
                try commit(overdue, 0.05),                    // past its expiry, not swept: recorded, its 0.05 freed
                try commit(unpriced, nil),                    // no price: unpriced, counts nothing, frees 0.01
                try allocation(0.40),                         // 0.45 + 0.22 + 0.40 > 1: denied
                try allocation(0.10, generation: generation - 1),   // stale
                try allocation(0.60, priority: .critical),    // over the limit: a recorded bypass; both warn thresholds
                try commit(big, 0.70),                        // spent 1.15: the 0.5 threshold, and exceeded
                try allocation(0.50),                         // denied again: the same event, twice
                try commit(late, 0.03, at: Date().addingTimeInterval(-86_400)),   // yesterday's windows, new: their spend
                                                                                  // from the ledger, less this very record
            ]
            let payload = EngineCall.batch(calls.map(\.call))

            let reference = try await run(client, "budget_engine_batch", payload)
            let setBased = try await run(client, "budget_engine_run", payload)
            let expected = try outcomes(of: reference.answers, calls)
            let actual = try outcomes(of: setBased.answers, calls)
            #expect(actual.count == calls.count)
            for (index, (left, right)) in zip(expected, actual).enumerated() {
                #expect(left == right, "call \(index): \(left) ≠ \(right)")
            }
            #expect(try await same(client, reference.state, setBased.state), "rows:\n\(reference.state)\n\(setBased.state)")
            #expect(setBased.answers.contains(#""granted|"#), "the batch went the set-based way: \(setBased.answers)")

            // The scenario reached what it means to cover.
            #expect(actual.map(\.name) == [
                "granted", "denied", "granted", "idempotency_conflict", "committed", "conflict", "replayed", "replayed", "stale", "not_found",
                "committed", "granted", "replayed", "conflict", "not_found", "expired", "expired", "committed",
                "denied", "stale", "bypass", "committed", "denied", "committed",
            ])
            guard case .allocate(.granted(_, _, let replayed)) = actual[2] else { throw StoreError(.corrupt, "call 2: \(actual[2])") }
            #expect(replayed, "a key used before replays its kept answer")
            // Every key taken in the batch keeps an answer; the stale call's key is not taken.
            let keys = try #require(try JSONSerialization.jsonObject(with: Data(setBased.state.utf8)) as? [String: Any])["keys"] as? [[String: Any]]
            let kept = Dictionary(uniqueKeysWithValues: (keys ?? []).map { ($0["key"] as? String ?? "", $0["response"] is [String: Any]) })
            #expect(kept.count == 9, "\(kept.keys.sorted())")
            for key in ["new-granted", "new-denied", "new-commit", "new-conflict", "new-replay", "new-unknown"] {
                #expect(kept[key] == true, "\(key) keeps its answer")
            }
            #expect(kept["stale-key"] == nil)
            // Yesterday's windows hold the late record once: 0.03 on each limit, not 0.06.
            #expect(setBased.state.components(separatedBy: #""spent": "0.03""#).count - 1 == 2, "\(setBased.state)")
            for event in ["threshold:", "exceeded:", "denied:", "bypass:", "unpriced:"] {
                #expect(setBased.state.contains(event), "no \(event) event")
            }
        }
    }
}

extension EngineRunTests {
    /// Autovacuum analyses the engine's bookkeeping tables often (every commit updates its
    /// allocation). Columns only ever read back by id have no statistics (0022); the rest have
    /// small ones, a sample of 3,000 rows instead of 30,000 (0025). The ledger keeps the default.
    @Test func theEngineTablesKeepSmallStatisticsAndTheLedgerTheDefault() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        let targets = try await withClient(endpoint) { client in
            var targets: [String: Int] = [:]
            let rows = try await client.query("""
                SELECT attrelid::regclass::text || '.' || attname, coalesce(attstattarget, -1)::int FROM pg_attribute
                WHERE attrelid IN ('allocations'::regclass, 'allocation_windows'::regclass, 'usage_rollup_deltas'::regclass,
                                   'usage_records'::regclass)
                  AND attnum > 0 AND NOT attisdropped
                """, logger: logger)
            for try await (name, target) in rows.decode((String, Int).self) { targets[name] = target }
            return targets
        }
        for column in ["commit_result", "commit_hash", "metadata"] { #expect(targets["allocations." + column] == 0, "\(column)") }
        for column in ["allocations.id", "allocations.status", "allocations.expires_at", "allocations.request_id", "allocations.created_at",
                       "allocations.component", "allocations.provider", "allocations.model",
                       "allocation_windows.allocation_id", "allocation_windows.reserved", "usage_rollup_deltas.hour", "usage_rollup_deltas.cost_usd"] {
            #expect(targets[column] == 10, "\(column)")
        }
        let small = targets.filter { $0.key.hasPrefix("allocation") || $0.key.hasPrefix("usage_rollup_deltas.") }
        #expect(small.values.allSatisfy { $0 == 0 || $0 == 10 }, "\(small)")
        #expect(targets.filter { $0.key.hasPrefix("usage_records.") }.values.allSatisfy { $0 == -1 }, "the ledger keeps the default")
        #expect(targets["usage_records.occurred_at"] == -1)
    }

    /// A connection plans the batch function's statements once, on its first batch, and keeps
    /// the plans; on a new database that is while `allocations` is empty and never analysed. A
    /// plan chosen for that (a sequential scan joined by hash) would read the whole table on every
    /// later batch. The function's planner settings (0020) keep every lookup on an index.
    @Test func aBatchLooksItsAllocationsUpByKeyEvenWhenPlannedOnEmptyTables() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()   // autovacuum is off in the test cluster: never analysed
        try await withClient(endpoint, maximumConnections: 1) { client in   // one connection: the plans of the first batch stay
            let budget = try await BudgetRepository(client: client).create(name: "plans", owner: nil, description: nil, timeZone: "UTC",
                                                                           active: true, logger: logger)
            _ = try await LimitRepository(client: client).create(budgetID: budget.id, filter: ScopeFilter(component: "eq"), period: .daily,
                                                                 metric: .costUSD, amount: 1000, policy: .enforce, warnAt: 0.8, by: nil,
                                                                 logger: logger)
            let engine = BudgetEngine(client: client, logger: logger)
            func allocate() async throws -> UUID {
                let outcome = try await engine.allocate(.init(scope: scope, estimate: Estimate(costUSD: 0.01), ttlSeconds: 600, priority: .normal,
                                                              requestID: nil, metadata: .object([:])),
                                                        idempotencyKey: nil, requestHash: UUID().uuidString, logger: logger)
                guard case .granted(let row, _, _) = outcome else { throw StoreError(.corrupt, "set-up allocation refused") }
                return row.id
            }
            func usage() -> BudgetEngine.CommitInput {
                .init(usage: TokenUsage(input: 10), provider: nil, model: nil, costUSD: 0.01, occurredAt: nil, requestID: nil, metadata: .object([:]))
            }
            // The first allocate and commit plan the function's statements on the (nearly) empty tables.
            _ = try await engine.commit(allocationID: try await allocate(), usage(), idempotencyKey: nil, requestHash: "first", logger: logger)

            try await client.query("""
                INSERT INTO allocations (id, status, priority, tags, expires_at, finished_at)
                SELECT gen_random_uuid(), 'committed', 'normal', '{}', now(), now() FROM generate_series(1, 3000)
                """, logger: logger)
            let active = try await allocate()

            let catalog = try await engine.catalog.current()
            let record = engine.ledgerRecord(for: .init(occurredAt: nil, scope: scope, usage: TokenUsage(input: 10), costUSD: 0.01, requestID: nil,
                                                        metadata: .object([:])),
                                             allocationID: active, catalog: catalog, now: Date())
            let payload = EngineCall.batch([EngineCall(operation: .commit(allocationID: active, record: try EngineJSON.encode(record)),
                                                       generation: catalog.generation, idempotencyKey: nil, requestHash: "second")])
            let scans = try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                for try await _ in try await connection.query("SELECT budget_engine_run(\(payload)::jsonb)", logger: logger) {}
                var scans: [String] = []
                for try await (table, count) in try await connection.query("""
                    SELECT relname::text, seq_scan FROM pg_stat_xact_user_tables
                    WHERE relname IN ('allocations', 'allocation_windows', 'limit_windows') AND seq_scan > 0 ORDER BY relname
                    """, logger: logger).decode((String, Int64).self) {
                    scans.append("\(table): \(count)")
                }
                try await connection.query("ROLLBACK", logger: logger)
                return scans
            }
            #expect(scans.isEmpty, "sequential scans in one commit batch: \(scans)")
        }
    }
}

extension EngineRunTests {
    /// A window created when a call first touches it (a new session, task or hour) reads its
    /// spend from the ledger. That read goes through the ledger's indexes, not over every row:
    /// it runs inside the batch that holds every caller's window locks.
    @Test func aNewWindowReadsItsSpendThroughTheLedgersIndexes() async throws {
        let endpoint = try await TestDatabaseServer.shared.makeDatabase()
        try await withClient(endpoint, maximumConnections: 1) { client in
            let budget = try await BudgetRepository(client: client).create(name: "backfill", owner: nil, description: nil, timeZone: "UTC",
                                                                           active: true, logger: logger)
            let limits = LimitRepository(client: client)
            func limit(_ period: Period) async throws -> UUID {
                try await limits.create(budgetID: budget.id, filter: ScopeFilter(component: "eq"), period: period, metric: .costUSD, amount: 1000,
                                        policy: .enforce, warnAt: 0.8, by: nil, logger: logger).id
            }
            let session = try await limit(.perSession), task = try await limit(.perTask), hourly = try await limit(.hourly)
            // 50,000 rows over 20 days, 5,000 sessions and tasks, a tenth of them another component's.
            try await client.query("""
                INSERT INTO usage_records (id, occurred_at, component, session_id, task_id, cost_usd, pricing_status)
                SELECT gen_random_uuid(), now() - (i % 480) * interval '1 hour' - interval '1 minute',
                       CASE WHEN i % 10 = 0 THEN 'other' ELSE 'eq' END, 's-' || (i % 5000), 't-' || (i % 5000),
                       (i % 7) * 0.001, 'caller_priced'
                FROM generate_series(1, 50000) i
                """, logger: logger)
            try await client.query("ANALYZE usage_records", logger: logger)

            let cases: [(limit: UUID, key: String, expected: String)] = [
                (session, "session:s-17", "SELECT sum(cost_usd) FROM usage_records WHERE session_id = 's-17' AND component = 'eq'"),
                (task, "task:t-23", "SELECT sum(cost_usd) FROM usage_records WHERE task_id = 't-23' AND component = 'eq'"),
                (hourly, "hour", """
                    SELECT sum(cost_usd) FROM usage_records
                    WHERE occurred_at >= date_trunc('hour', now()) - interval '3 hours' AND occurred_at < date_trunc('hour', now()) - interval '2 hours'
                      AND component = 'eq'
                    """),
            ]
            for (limitID, key, expected) in cases {
                let (spent, wanted, rowsScanned) = try await client.withConnection { connection in
                    // Rows read by sequential scans of the ledger so far in this session (pending
                    // statistics add up until they are flushed): read before and after the call.
                    func scanned() async throws -> Int {
                        var total = -1
                        for try await count in try await connection.query("""
                            SELECT coalesce(sum(seq_tup_read), 0)::integer FROM pg_stat_xact_user_tables WHERE relname LIKE 'usage_records%'
                            """, logger: logger).decode(Int.self) { total = count }
                        return total
                    }
                    try await connection.query("BEGIN", logger: logger)
                    let before = try await scanned()
                    var spent = "", wanted = ""
                    for try await value in try await connection.query("""
                        SELECT limit_window_backfill(\(limitID), \(key), date_trunc('hour', now()) - interval '3 hours',
                                                     date_trunc('hour', now()) - interval '2 hours')::text
                        """, logger: logger).decode(String.self) { spent = value }
                    let after = try await scanned()
                    for try await value in try await connection.query(PostgresQuery(unsafeSQL: "SELECT (" + expected + ")::text"), logger: logger).decode(String?.self) {
                        wanted = value ?? "0"
                    }
                    try await connection.query("ROLLBACK", logger: logger)
                    return (spent, wanted, after - before)
                }
                #expect(spent == wanted, "\(key): \(spent) ≠ \(wanted)")
                #expect(wanted != "0", "\(key): the scenario has spend to find")
                #expect(rowsScanned == 0, "\(key): \(rowsScanned) ledger rows read by sequential scans")
            }
        }
    }
}

/// A call of the scenario with what was sent, to complete its answer with.
enum Sent {
    case allocate(EngineCall, AllocationRow, [WindowSpec])
    case commit(EngineCall, LedgerRecord)

    var call: EngineCall {
        switch self {
        case .allocate(let call, _, _), .commit(let call, _): call
        }
    }
}

enum Outcome: Equatable {
    case allocate(AllocateOutcome)
    case commit(CommitOutcome)

    var name: String {
        switch self {
        case .allocate(.granted(let row, _, _)): row.bypass == true ? "bypass" : "granted"
        case .allocate(.denied): "denied"
        case .allocate(.stale), .commit(.stale): "stale"
        case .allocate(.idempotencyConflict), .commit(.idempotencyConflict): "idempotency_conflict"
        case .commit(.committed(_, let expired, let replayed)): replayed ? "replayed" : expired ? "expired" : "committed"
        case .commit(.notFound): "not_found"
        case .commit(.conflict): "conflict"
        }
    }
}

/// Each answer of a JSON array of answers, completed and decoded as the repository does.
func outcomes(of answers: String, _ calls: [Sent]) throws -> [Outcome] {
    let texts = try (JSONSerialization.jsonObject(with: Data(answers.utf8), options: .fragmentsAllowed) as? [Any] ?? []).map { answer in
        String(decoding: try JSONSerialization.data(withJSONObject: answer, options: .fragmentsAllowed), as: UTF8.self)
    }
    return try zip(texts, calls).map { text, sent in
        switch sent {
        case .allocate(_, let row, let windows): .allocate(try EngineRepository.allocateOutcome(text, allocation: row, windows: windows))
        case .commit(_, let record): .commit(try EngineRepository.commitOutcome(text, record: record))
        }
    }
}

@Suite("Engine JSON: the hot path's hand-written JSON says what Foundation's encoder says")
struct EngineJSONWritingTests {
    /// Both texts parsed: the same members and values (key order and escaping may differ).
    func sameJSON(_ left: String, _ right: String) throws -> Bool {
        let a = try JSONSerialization.jsonObject(with: Data(left.utf8), options: .fragmentsAllowed) as? NSObject
        let b = try JSONSerialization.jsonObject(with: Data(right.utf8), options: .fragmentsAllowed) as? NSObject
        return a != nil && a == b
    }

    static let window = #"""
        {"limit_id":"6F9619FF-8B86-D011-B42D-00C04FC964FF","limit_version":3,"budget_id":"0D1F8E1E-E628-42E8-8CB9-E7C5399E8231",
         "budget_name":"team \"a\" / ünïcode","scope":{"component":"ergon","provider":"anthropic","tag":"night\nly"},
         "period":"daily","metric":"cost_usd","policy":"enforce","warn_at":"0.8","thresholds":["0.5","0.95"],"amount":"12.50",
         "window_key":"2026-11-22T00:00:00Z","window_start":"2026-11-22T00:00:00.000Z","window_end":"2026-11-23T00:00:00.000Z",
         "request":"0.0125","spent":"1.5","reserved":"0"}
        """#

    @Test func windowsAllocationsAndRecordsAreWrittenAsTheEncoderWritesThem() throws {
        var full = try EngineJSON.decoder.decode(WindowSpec.self, from: Data(Self.window.utf8))
        var bare = full
        bare.thresholds = nil
        bare.windowStart = nil
        bare.windowEnd = nil
        bare.spent = nil
        bare.reserved = nil
        bare.scope = ScopeFilter()
        full.budgetName = "tab\there, back\\slash, control \u{01}, emoji 🙂"
        let windows = [full, bare]
        #expect(try sameJSON(EngineJSON.text(windows), EngineJSON.encode(windows)))

        let scope = Scope(component: "c", provider: " Anthropic ", model: nil, taskType: "code", tier: "t1", tags: ["a", "b\"c"], sessionID: "s", taskID: nil)
        let metadata = JSONValue.object(["n": .number("1.50"), "list": .array([.null, .bool(true), .string("x")]), "o": .object([:])])
        var allocation = AllocationRow(id: UUID(), scope: scope, priority: .critical, reservedCostUSD: Decimal(string: "0.000125"), reservedTokens: Int64.max,
                                       priceID: UUID(), expiresAt: Date(timeIntervalSince1970: 1_795_000_000.123), requestID: "req-1", metadata: metadata)
        #expect(try sameJSON(EngineJSON.text(allocation), EngineJSON.encode(allocation)))
        allocation.bypass = true
        allocation.priceID = nil
        allocation.reservedCostUSD = nil
        allocation.scope = Scope()
        #expect(try sameJSON(EngineJSON.text(allocation), EngineJSON.encode(allocation)))

        var record = LedgerRecord(id: UUID(), occurredAt: Date(timeIntervalSince1970: 1_795_000_000.5), scope: scope,
                                  usage: TokenUsage(input: 1, output: 2, cacheRead: 3, cacheWrite: 4, reasoning: 1), cost: Decimal(string: "0.3"),
                                  pricingStatus: .callerPriced, priceID: nil, allocationID: UUID(), requestID: nil, origin: "api",
                                  metadata: .object([:]), windows: windows, batch: true)
        #expect(try sameJSON(EngineJSON.text(record), EngineJSON.encode(record)))
        #expect(try EngineJSON.text(record).contains(#""batch":true"#))
        record.batch = nil
        record.windows = nil
        record.costUSD = nil
        record.pricingStatus = .unpriced
        record.previousPriceID = UUID()
        #expect(try sameJSON(EngineJSON.text([record]), EngineJSON.encode([record])))
        #expect(try EngineJSON.text(Scope()) == "{\"tags\":[]}")
    }
}
