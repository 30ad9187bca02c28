import BudgetAPI
import BudgetCore
import BudgetStore
import BudgetTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@Suite("Spend reports: exact rollups under concurrent engine writes and repricing; the report API as JSON and CSV")
struct ReportsTests {
    static func usage(_ at: String, component: String, model: String, input: Int, output: Int = 0, cost: String?) -> String {
        let costField = cost.map { #","cost_usd":"\#($0)""# } ?? ""
        return #"{"occurred_at":"\#(at)","scope":{"component":"\#(component)","provider":"acme","model":"\#(model)","task_type":"code"},"usage":{"input_tokens":\#(input),"output_tokens":\#(output)}\#(costField)}"#
    }

    /// Four calls around a UTC midnight (see each test for the expected buckets).
    static func recordFixture(_ client: any TestClientProtocol) async throws {
        for body in [
            usage("2026-03-10T10:00:00Z", component: "a", model: "m", input: 100, output: 10, cost: "0.50"),
            usage("2026-03-10T18:15:00Z", component: "a", model: "m", input: 200, cost: "0.25"),
            usage("2026-03-10T23:10:00Z", component: "b", model: "unknown-model", input: 50, cost: nil),
            usage("2026-03-11T09:00:00Z", component: "b", model: "m", input: 10, cost: "1.000001"),
        ] {
            let reply = try await client.send(.post, "/api/v1/usage", body)
            guard reply.status == .created else { throw JSONShapeError(body: reply.text) }
        }
    }

    static func row(_ item: [String: any Sendable]) -> String {
        let keys = ["bucket_local", "component", "model", "input_tokens", "cost_usd", "count", "unpriced_count"]
        return keys.compactMap { key in item[key].map { "\($0)" } }.joined(separator: " ")
    }

    @Test func concurrentEngineWritesAndARepriceKeepTheRollupsEqualToTheLedger() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"100000","policy":"warn"}"#)
            try await client.setPrice("acme", "m", input: "0.000001", output: "0.000002")
            // Really concurrent (a connection per caller; the test client would pipeline them on one).
            try await PatientHTTP.withClient(connections: 80) { http in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<80 {
                        group.addTask {
                            let component = ["ergon", "rhetor", "apollo"][index % 3]
                            switch index % 4 {
                            case 0:
                                let granted = try await PatientHTTP.send(http, to: client, .post, "/api/v1/allocations",
                                    #"{"scope":{"component":"\#(component)","provider":"acme","model":"m","task_type":"chat"},"estimate":{"input_tokens":1000,"max_output_tokens":100}}"#)
                                let id = granted.string("id") ?? ""
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":\#(900 + index),"output_tokens":\#(index),"cache_read_tokens":3}}"#)
                            case 1:
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/usage", #"{"scope":{"component":"\#(component)","provider":"Acme","model":"unpriced-\#(index % 2)","tier":"t"},"usage":{"input_tokens":\#(index)}}"#)
                            case 2:
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/usage/batch", #"{"records":[{"scope":{"component":"\#(component)","provider":"acme","model":"m"},"usage":{"input_tokens":\#(index),"output_tokens":5,"reasoning_tokens":2}},{"occurred_at":"2026-01-0\#(index % 9 + 1)T0\#(index % 10):59:59.999Z","scope":{"component":"\#(component)"},"usage":{"input_tokens":1},"cost_usd":"0.000000\#(index)"}]}"#)
                            default:
                                _ = try await PatientHTTP.send(http, to: client, .post, "/api/v1/usage", #"{"scope":{"provider":"acme","model":"m"},"usage":{"input_tokens":\#(index)},"cost_usd":"0.0\#(index)"}"#)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // The app's maintenance folds every 200 ms while the writes run; compare both ways.
            let (ledgerRows, mismatches) = try await harness.sql { db in
                var rows = 0
                for try await n in try await db.query("SELECT count(*)::int FROM usage_records").decode(Int.self) { rows = n }
                return (rows, try await RollupCheck.mismatches(db))
            }
            #expect(ledgerRows == 100)
            #expect(mismatches == 0)
            #expect(try await harness.scalar("SELECT sum(unpriced_records)::text FROM report.usage_hourly") == "20")

            // Prices become known; the server reprices by itself (UPDATEs of the ledger) and the rollups follow.
            try await client.setPrice("acme", "unpriced-0", input: "0.000003", output: "0")
            try await client.setPrice("acme", "unpriced-1", input: "0.000005", output: "0")
            let repriced = try await eventually(30) {
                try await harness.scalar("SELECT count(*)::text FROM usage_records WHERE pricing_status = 'unpriced'") == "0"
            }
            #expect(repriced)
            #expect(try await harness.scalar("SELECT sum(unpriced_records)::text FROM report.usage_hourly") == "0")
            #expect(try await harness.sql { db in try await RollupCheck.mismatches(db) } == 0)
            // And the report's total is the ledger's, to the last digit.
            let ledgerCost = try await harness.scalar("SELECT sum(cost_usd)::text FROM usage_records")
            let reply = try await client.send(.get, "/api/v1/reports/spend?from=2026-01-01T00:00:00Z&to=2027-12-01T00:00:00Z&bucket=month")
            let total = reply.items.compactMap { ($0["cost_usd"] as? String).flatMap { Decimal(exactly: $0) } }.reduce(Decimal(0), +)
            #expect(total == ledgerCost.flatMap { Decimal(exactly: $0) })
            #expect(reply.items.compactMap { $0["count"] as? Int }.reduce(0, +) == 100)
        }
    }

    @Test func dailySpendByComponentInUTCBerlinAndKolkata() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await Self.recordFixture(client)
            let base = "/api/v1/reports/spend?from=2026-03-09T00:00:00Z&to=2026-03-13T00:00:00Z&bucket=day&group_by=component"

            let utc = try await client.send(.get, base)
            #expect(utc.status == .ok)
            #expect(utc.string("source") == "daily_rollups")
            #expect(utc.items.map(Self.row) == [
                "2026-03-10T00:00 a 300 0.75 2 0",
                "2026-03-10T00:00 b 50 0 1 1",
                "2026-03-11T00:00 b 10 1.000001 1 0",
            ])
            #expect(utc.items.first?["bucket"] as? String == "2026-03-10T00:00:00.000Z")
            #expect(utc.items.first?["output_tokens"] as? Int == 10)
            // The same from the hourly rollups (a bound off midnight), and from the rollups with the
            // ledger for the hour a bound cuts (a bound off the hour).
            let hourly = try await client.send(.get, base.replacingOccurrences(of: "from=2026-03-09T00:00:00Z", with: "from=2026-03-09T01:00:00Z"))
            #expect(hourly.string("source") == "rollups")
            #expect(hourly.items.map(Self.row) == utc.items.map(Self.row))
            let cut = try await client.send(.get, base.replacingOccurrences(of: "from=2026-03-09T00:00:00Z", with: "from=2026-03-09T00:00:01Z"))
            #expect(cut.string("source") == "rollups_and_ledger")
            #expect(cut.items.map(Self.row) == utc.items.map(Self.row))

            // Berlin (+01:00 in March): the 23:10Z call belongs to the 11th.
            let berlin = try await client.send(.get, base + "&timezone=Europe/Berlin")
            #expect(berlin.string("source") == "rollups")
            #expect(berlin.items.map(Self.row) == [
                "2026-03-10T00:00 a 300 0.75 2 0",
                "2026-03-11T00:00 b 60 1.000001 2 1",
            ])
            #expect(berlin.items.first?["bucket"] as? String == "2026-03-09T23:00:00.000Z")

            // Kolkata (+05:30) is not whole hours: its days start at 18:30Z, so the hour 18:00Z of
            // each day comes from the ledger (18:15Z is 23:45 on the 10th) and the others from the
            // rollups (23:10Z is 04:40 on the 11th); before and after folding the deltas.
            let kolkataDays = "/api/v1/reports/spend?from=2026-03-09T18:30:00Z&to=2026-03-12T18:30:00Z&bucket=day&group_by=component,model&timezone=Asia/Kolkata"
            let expected = [
                "2026-03-10T00:00 a m 300 0.75 2 0",
                "2026-03-11T00:00 b m 10 1.000001 1 0",
                "2026-03-11T00:00 b unknown-model 50 0 1 1",
            ]
            let kolkata = try await client.send(.get, kolkataDays)
            #expect(kolkata.string("source") == "rollups_and_ledger", "\(kolkata.text)")
            #expect(kolkata.items.map(Self.row) == expected)
            _ = try await harness.scalar("SELECT usage_rollup_fold()::text")
            #expect(try await client.send(.get, kolkataDays).items.map(Self.row) == expected, "from usage_hourly after the fold")
            // By the hour, Kolkata cuts every UTC hour: the ledger alone answers.
            let kolkataHours = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z&bucket=hour&timezone=Asia/Kolkata")
            #expect(kolkataHours.string("source") == "ledger")
            #expect(kolkataHours.items.map(Self.row) == [
                "2026-03-10T15:00 100 0.5 1 0", "2026-03-10T23:00 200 0.25 1 0", "2026-03-11T04:00 50 0 1 1", "2026-03-11T14:00 10 1.000001 1 0",
            ])

            // A range that is not whole hours reads the ledger for the hours its ends cut, and cuts exactly.
            let partial = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-10T18:15:00Z&to=2026-03-10T23:10:00Z&bucket=hour")
            #expect(partial.string("source") == "rollups_and_ledger")
            #expect(partial.items.map(Self.row) == ["2026-03-10T18:00 200 0.25 1 0"])
            let spanning = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-10T09:59:59Z&to=2026-03-11T09:00:01Z&bucket=day")
            #expect(spanning.string("source") == "rollups_and_ledger")
            #expect(spanning.items.map(Self.row) == ["2026-03-10T00:00 350 0.75 3 1", "2026-03-11T00:00 10 1.000001 1 0"])

            // Week (Monday) and month buckets, no grouping.
            let week = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&bucket=week")
            #expect(week.items.map(Self.row) == ["2026-03-09T00:00 360 1.750001 4 1"])
            let month = try await client.send(.get, "/api/v1/reports/spend?from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&bucket=month&group_by=tier")
            #expect(month.items.map(Self.row) == ["2026-03-01T00:00 360 1.750001 4 1"])
            #expect(month.items.first.map { $0["tier"] is NSNull } == true, "an unknown tier is null, not absent")
        }
    }

    @Test func groupValuesAreEscapedInJSON() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let odd = "we\\\"ird\\n\\u0001 \\\\ é"   // JSON text for: we"ird<LF><U+0001> \ é
            let reply = try await client.send(.post, "/api/v1/usage", #"{"occurred_at":"2026-03-10T10:00:00Z","scope":{"component":"\#(odd)"},"usage":{"input_tokens":1},"cost_usd":"0.1"}"#)
            #expect(reply.status == .created)
            let report = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&group_by=component")
            #expect(report.items.first?["component"] as? String == "we\"ird\n\u{1} \\ é", "\(report.text)")
            #expect(report.json["budget_id"] is NSNull)
            #expect(report.json["group_by"] as? [String] == ["component"])
        }
    }

    @Test func csvWhenAskedFor() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await Self.recordFixture(client)
            let reply = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z&bucket=day&group_by=model,component",
                                              headers: [.accept: "text/csv"])
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = reply.text.split(separator: "\r\n").map(String.init)
            #expect(lines == [
                "bucket,bucket_local,model,component,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,reasoning_tokens,cost_usd,count,unpriced_count",
                "2026-03-10T00:00:00.000Z,2026-03-10T00:00,m,a,300,10,0,0,0,0.75,2,0",
                "2026-03-10T00:00:00.000Z,2026-03-10T00:00,unknown-model,b,50,0,0,0,0,0,1,1",
                "2026-03-11T00:00:00.000Z,2026-03-11T00:00,m,b,10,0,0,0,0,1.000001,1,0",
            ])
        }
    }

    @Test func aBudgetNarrowsTheReportToWhatItsLimitsCountAndLendsItsZone() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await Self.recordFixture(client)
            let budget = try await client.makeBudget(timezone: "Europe/Berlin")
            _ = try await client.makeLimit(budget, #"{"scope":{"component":"b"},"period":"monthly","amount":"100","policy":"warn"}"#)
            let reply = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-01T00:00:00Z&to=2026-03-20T00:00:00Z&bucket=day&budget_id=\(budget)")
            #expect(reply.status == .ok)
            #expect(reply.string("timezone") == "Europe/Berlin")
            #expect(reply.items.map(Self.row) == ["2026-03-11T00:00 60 1.000001 2 1"])

            // A tag filter is not in the rollups: the ledger answers (nothing here is tagged).
            _ = try await client.makeLimit(budget, #"{"scope":{"tag":"x"},"period":"monthly","amount":"100","policy":"warn"}"#)
            let tagged = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-01T00:00:00Z&to=2026-03-20T00:00:00Z&bucket=day&budget_id=\(budget)")
            #expect(tagged.string("source") == "ledger")
            #expect(tagged.items.map(Self.row) == ["2026-03-11T00:00 60 1.000001 2 1"])

            let unknown = try await client.send(.get, "/api/v1/reports/spend?from=2026-03-01T00:00:00Z&to=2026-03-20T00:00:00Z&budget_id=\(UUID())")
            #expect(unknown.status == .notFound)
        }
    }

    @Test func invalidRequestsAreRefusedWithTheField() async throws {
        let cases: [(String, String)] = [
            ("from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bucket=fortnight", "bucket"),
            ("from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&group_by=component,budget", "group_by"),
            ("from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&group_by=model,model", "group_by"),
            ("from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z", "from"),
            ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"),
            ("to=2026-03-01T00:00:00Z", "from"),
            ("from=2026-03-01T00:00:00Z", "to"),
            ("from=yesterday&to=2026-03-01T00:00:00Z", "from"),
            ("from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&timezone=Mars/Olympus", "timezone"),
            ("from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&timezone=GMT%2B5", "timezone"),
            ("from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=hour", "to"),
            ("from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&budget_id=nope", "budget_id"),
        ]
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            for (query, field) in cases {
                let reply = try await client.send(.get, "/api/v1/reports/spend?" + query)
                #expect(reply.status == .badRequest, "\(query): \(reply.text)")
                #expect(reply.code == "invalid_input", "\(query)")
                #expect(reply.field == field, "\(query): \(reply.text)")
            }
        }
    }

    /// report.limit_status: each time limit's current window; report.keyed_limit_status: each
    /// session's (or task's) counter of a per_session / per_task limit.
    @Test func limitStatusViewsShowTheCurrentWindowAndEachSessionsCounter() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget("views")
            _ = try await client.makeLimit(budget, #"{"scope":{"component":"v"},"period":"daily","metric":"cost_usd","amount":"10","policy":"enforce","warn_at":"0.5"}"#)
            _ = try await client.makeLimit(budget, #"{"scope":{"component":"v"},"period":"per_session","metric":"tokens","amount":"1000","policy":"warn"}"#)
            for body in [
                #"{"scope":{"component":"v","provider":"acme","model":"m","session_id":"s1"},"usage":{"input_tokens":900},"cost_usd":"6"}"#,
                #"{"scope":{"component":"v","provider":"acme","model":"m","session_id":"s2"},"usage":{"input_tokens":100},"cost_usd":"1"}"#,
            ] {
                #expect(try await client.send(.post, "/api/v1/usage", body).status == .created)
            }
            let open = try await client.send(.post, "/api/v1/allocations",
                #"{"scope":{"component":"v","provider":"acme","model":"m","session_id":"s2"},"estimate":{"input_tokens":150,"max_output_tokens":50,"cost_usd":"0.5"}}"#)
            #expect(open.status == .created)
            return ()
        }
        let daily = try await harness.scalar("""
            SELECT period || ' ' || trim_scale(spent)::text || '/' || trim_scale(reserved)::text || '/' || trim_scale(remaining)::text || ' ' || state
            FROM report.limit_status WHERE budget_name = 'views'
            """)
        #expect(daily == "daily 7/0.5/2.5 warning")   // 7 spent ≥ 10 × 0.5; 10 − 7 − 0.5 left
        let sessions = try await harness.scalar("""
            SELECT string_agg(key_kind || ':' || key || ' ' || trim_scale(spent)::text || '/' || trim_scale(reserved)::text || '/'
                              || trim_scale(remaining)::text || ' ' || state, ', ' ORDER BY key)
            FROM report.keyed_limit_status WHERE budget_name = 'views'
            """)
        #expect(sessions == "session:s1 900/0/100 warning, session:s2 100/200/700 ok")
    }
}
