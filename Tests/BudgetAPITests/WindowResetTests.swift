import BudgetAPI
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("A budget's time windows start again on request: audited, the ledger kept, over the native API")
struct WindowResetTests {
    @Test func aResetStartsTheDailyWindowAgainAndKeepsTheLedger() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1.00","policy":"enforce"}"#)
            let spent = try await client.send(.post, "/api/v1/usage", #"{"scope":{"component":"ergon"},"usage":{"input_tokens":10},"cost_usd":"0.80"}"#)
            #expect(spent.status == .created)
            let ask = #"{"scope":{"component":"ergon"},"estimate":{"cost_usd":"0.50"}}"#
            #expect(try await client.send(.post, "/api/v1/allocations", ask).status == .tooManyRequests)

            let reset = try await client.send(.post, "/api/v1/budgets/\(budget)/resets", #"{"period":"daily","reason":"quota raised by finance"}"#,
                                              headers: [HTTPField.Name("X-Budget-Actor")!: "alice"])
            #expect(reset.status == .created, "\(reset.text)")
            #expect(reset.string("period") == "daily")
            #expect(reset.string("budget_id") == budget)
            #expect(reset.string("reset_by") == "alice")
            #expect(reset.string("reason") == "quota raised by finance")

            let status = try await client.send(.get, "/api/v1/status?budget_id=\(budget)").items.first
            #expect(status?["spent"] as? String == "0")
            #expect(status?["window_start"] as? String == reset.string("reset_at"))
            #expect(try await client.send(.post, "/api/v1/allocations", ask).status == .created, "the new window has room")
            #expect(try await client.send(.get, "/api/v1/usage").items.count == 1, "the spend before the reset stays in the ledger")
        }
    }

    @Test func oneLimitIsResetAloneAndTheResetsAreListedNewestFirstByPage() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let hourly = try await client.makeLimit(budget, #"{"period":"hourly","amount":"5"}"#)
            _ = try await client.makeLimit(budget, #"{"period":"monthly","amount":"50"}"#)
            _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"component":"ergon"},"usage":{"input_tokens":10},"cost_usd":"2"}"#)
            let first = try await client.send(.post, "/api/v1/budgets/\(budget)/resets", #"{"limit_id":"\#(hourly)"}"#)
            #expect(first.status == .created, "\(first.text)")
            #expect(first.string("limit_id") == hourly)
            let spent = Dictionary(uniqueKeysWithValues: try await client.send(.get, "/api/v1/status?budget_id=\(budget)").items.compactMap { item in
                (item["period"] as? String).map { ($0, item["spent"] as? String) }
            })
            #expect(spent["hourly"] == "0")
            #expect(spent["monthly"] == "2", "the other limit's window is untouched")

            let second = try await client.send(.post, "/api/v1/budgets/\(budget)/resets", #"{"period":"monthly"}"#)
            #expect(second.status == .created)
            let page1 = try await client.send(.get, "/api/v1/budgets/\(budget)/resets?limit=1")
            #expect(page1.items.map { $0["id"] as? String } == [second.string("id")])
            let cursor = try #require(page1.string("next_cursor"))
            let page2 = try await client.send(.get, "/api/v1/budgets/\(budget)/resets?limit=1&cursor=\(cursor)")
            #expect(page2.items.map { $0["id"] as? String } == [first.string("id")])
            #expect(page2.json["next_cursor"] is NSNull)
        }
    }

    @Test func badResetsAreRefusedAndChangeNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let other = try await client.makeBudget()
            let session = try await client.makeLimit(budget, #"{"period":"per_session","amount":"1"}"#)
            let elsewhere = try await client.makeLimit(other, #"{"period":"daily","amount":"1"}"#)
            let path = "/api/v1/budgets/\(budget)/resets"
            #expect(try await client.send(.post, path, #"{"period":"per_session"}"#).field == "period")
            #expect(try await client.send(.post, path, #"{"period":"yearly"}"#).field == "period")
            #expect(try await client.send(.post, path, #"{}"#).field == "period")
            #expect(try await client.send(.post, path, #"{"period":"daily","limit_id":"\#(session)"}"#).field == "limit_id")
            #expect(try await client.send(.post, path, #"{"limit_id":"not-a-uuid"}"#).status == .badRequest)
            #expect(try await client.send(.post, path, #"{"period":"daily","reason":"\#(String(repeating: "x", count: 501))"}"#).field == "reason")
            let sessionReset = try await client.send(.post, path, #"{"limit_id":"\#(session)"}"#)
            #expect(sessionReset.status == .unprocessableContent)
            #expect(sessionReset.code == "not_resettable")
            #expect(try await client.send(.post, path, #"{"limit_id":"\#(elsewhere)"}"#).status == .notFound, "a limit of another budget")
            #expect(try await client.send(.post, "/api/v1/budgets/\(UUID())/resets", #"{"period":"daily"}"#).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/budgets/\(UUID())/resets").status == .notFound)
            #expect(try await client.send(.get, path).items.isEmpty, "nothing was recorded")

            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "reset-1"]
            let once = try await client.send(.post, path, #"{"period":"daily"}"#, headers: key)
            let again = try await client.send(.post, path, #"{"period":"daily"}"#, headers: key)
            #expect(once.status == .created)
            #expect(again.string("id") == once.string("id"), "a retried reset is the same reset")
            #expect(try await client.send(.get, path).items.count == 1)
        }
    }

    /// A call stamped a fraction of a millisecond before midnight is stored in its millisecond
    /// (23:59:59.999, not rounded to midnight) and counted in that day's window: the window counters
    /// and the ledger agree at the boundary, so a later read of either day from the ledger finds the
    /// same spend as the counter.
    @Test func aCallJustBeforeMidnightIsStoredAndCountedInTheSameDay() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"component":"edge"},"period":"daily","amount":"100","policy":"enforce"}"#)
            let late = try await client.send(.post, "/api/v1/usage",
                #"{"occurred_at":"2026-03-10T23:59:59.9996Z","scope":{"component":"edge"},"usage":{"input_tokens":1},"cost_usd":"2"}"#)
            #expect(late.status == .created && late.string("occurred_at") == "2026-03-10T23:59:59.999Z", "\(late.text)")
            return ()
        }
        let counters = try await harness.scalar("""
            SELECT string_agg(left(window_key, 10) || '=' || trim_scale(spent)::text, ' ' ORDER BY window_key) FROM limit_windows
            """)
        let ledger = try await harness.scalar("""
            SELECT string_agg(day || '=' || usd, ' ' ORDER BY day) FROM (
                SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, trim_scale(sum(cost_usd))::text AS usd
                FROM usage_records GROUP BY 1) d
            """)
        #expect(counters == "2026-03-10=2" && ledger == "2026-03-10=2", "counters \(counters ?? "none"), ledger \(ledger ?? "none")")
    }
}
