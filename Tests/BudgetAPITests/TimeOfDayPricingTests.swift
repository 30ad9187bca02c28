import BudgetAPI
import BudgetCore
import BudgetTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("Prices for hours of the day: set over HTTP, each call priced at the rate of its hour")
struct TimeOfDayPricingTests {
    /// deepseek-chat: the full rates by day, half of them from 16:30 to 00:30 UTC.
    static let deepseek = #"""
        {"input_per_token":"0.00000027","output_per_token":"0.0000011","cache_read_per_token":"0.00000007",
         "times_of_day":[{"start":"16:30","end":"00:30","input":"0.000000135","output":"0.00000055","cache_read":"0.000000035"}]}
        """#

    /// Yesterday at `time` UTC, as the wire writes instants.
    static func yesterday(_ time: String) -> String {
        let midnight = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 - 86_400
        return InstantFormat.string(Date(timeIntervalSince1970: midnight + Double(TimeOfDayPrice.secondsOfDay(time)!)))
    }

    static func usage(at time: String) -> String {
        #"{"occurred_at":"\#(yesterday(time))","scope":{"provider":"deepseek","model":"deepseek-chat"},"usage":{"input_tokens":1000000,"output_tokens":100000,"cache_read_tokens":200000}}"#
    }

    @Test func aCallIsPricedAtTheRateOfTheHourItWasMadeIn() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let put = try await client.send(.put, "/api/v1/prices/deepseek/deepseek-chat", Self.deepseek)
            #expect(put.status == .ok)
            let window = try #require((put.json["times_of_day"] as? [[String: any Sendable]])?.first)
            #expect(window["start"] as? String == "16:30" && window["end"] as? String == "00:30")
            #expect(window["input"] as? String == "0.000000135" && window["cache_read"] as? String == "0.000000035")
            #expect(window["cache_write"] == nil, "a kind the window leaves to the base is left out")
            let listed = try await client.send(.get, "/api/v1/prices?provider=deepseek").items.first
            #expect((listed?["times_of_day"] as? [[String: any Sendable]])?.first?["output"] as? String == "0.00000055")

            // By day: 1,000,000 × 0.00000027 + 100,000 × 0.0000011 + 200,000 × 0.00000007
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage(at: "12:00")).string("cost_usd") == "0.394")
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage(at: "00:30")).string("cost_usd") == "0.394")
            // Off-peak, on both sides of midnight: half of it.
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage(at: "20:00")).string("cost_usd") == "0.197")
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage(at: "00:29")).string("cost_usd") == "0.197")
        }
        #expect(try await harness.scalar("SELECT sum(cost_usd)::text FROM usage_records") == "1.182")
        // In plain SQL, as docs/REPORTING.md shows it.
        #expect(try await harness.scalar("""
            SELECT w->>'start' || '-' || (w->>'end') || ' ' || (w->>'input') FROM report.price_history, jsonb_array_elements(times_of_day) w
            WHERE current AND model_key = 'deepseek-chat'
            """) == "16:30-00:30 0.000000135")
    }

    @Test func aReservationCountsOnTheDearestHourAndTheCommitPaysItsOwn() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // A surcharge from 09:00 to 17:00 UTC: dearer than the base.
            let put = try await client.send(.put, "/api/v1/prices/acme/rush", #"""
                {"input_per_token":"0.000001","output_per_token":"0.000002","times_of_day":[{"start":"09:00","end":"17:00","input":"0.000003"}]}
                """#)
            #expect(put.status == .ok)
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"acme"},"period":"daily","amount":"1.00","policy":"enforce"}"#)
            let allocation = try await client.send(.post, "/api/v1/allocations",
                #"{"scope":{"provider":"acme","model":"rush"},"estimate":{"input_tokens":1000,"max_output_tokens":1000}}"#)
            #expect(allocation.status == .created)
            #expect(allocation.string("reserved_cost_usd") == "0.005")   // 1000 × 0.000003 + 1000 × 0.000002, whatever the hour now
            let id = try #require(allocation.string("id"))
            func hour() -> Int { Int(Date().timeIntervalSince1970 / 3600) % 24 }
            let before = hour()
            let committed = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":1000,"output_tokens":1000}}"#)
            #expect(committed.status == .ok)
            if hour() == before {   // (not across 09:00 or 17:00, which would leave the hour of the commit unknown)
                #expect(committed.string("cost_usd") == ((9..<17).contains(before) ? "0.005" : "0.003"), "at \(before):00 UTC")
            }
        }
    }

    @Test func usageRecordedBeforeThePriceIsPricedAtTheRateOfItsHour() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage(at: "20:00")).string("pricing_status") == "unpriced")
            #expect(try await client.send(.put, "/api/v1/prices/deepseek/deepseek-chat", Self.deepseek).status == .ok)
            let priced = try await eventually(30) {
                try await client.send(.get, "/api/v1/usage?provider=deepseek").items.first?["cost_usd"] as? String == "0.197"
            }
            #expect(priced, "the off-peak record is priced at the off-peak rates")
        }
    }

    @Test func badWindowsAreRefusedAndChangeNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            #expect(try await client.send(.put, "/api/v1/prices/deepseek/deepseek-chat", Self.deepseek).status == .ok)
            let base = #""input_per_token":"0.000001","output_per_token":"0.000002""#
            let cases: [(String, String)] = [
                (#"[{"start":"25:00","end":"01:00","input":"0.0000005"}]"#, "times_of_day[0].start"),
                (#"[{"start":"16:30+01:00","end":"01:00","input":"0.0000005"}]"#, "times_of_day[0].start"),
                (#"[{"start":"16:30","input":"0.0000005"}]"#, "times_of_day[0].end"),
                (#"[{"start":"16:30","end":"16:30","input":"0.0000005"}]"#, "times_of_day[0]"),
                (#"[{"start":"16:30","end":"18:00"}]"#, "times_of_day[0]"),
                (#"[{"start":"16:30","end":"18:00","input":"-0.1"}]"#, "times_of_day[0].input"),
                (#"[{"start":"22:00","end":"02:00","input":"0.0000005"},{"start":"01:00","end":"03:00","input":"0.0000004"}]"#, "times_of_day[1]"),
            ]
            for (windows, field) in cases {
                let reply = try await client.send(.put, "/api/v1/prices/deepseek/deepseek-chat", #"{\#(base),"times_of_day":\#(windows)}"#)
                #expect(reply.status == .badRequest, "\(windows)")
                #expect(reply.field == field, "\(windows)")
            }
            let wrongType = try await client.send(.put, "/api/v1/prices/deepseek/deepseek-chat", #"{\#(base),"times_of_day":{"start":"16:30"}}"#)
            #expect(wrongType.status == .badRequest)
            let current = try await client.send(.get, "/api/v1/prices?provider=deepseek").items.first
            #expect(current?["input_per_token"] as? String == "0.00000027", "the price set first is still the current one")
        }
        #expect(try await harness.scalar("SELECT count(*)::text FROM prices") == "1")
    }
}
