import BudgetAPI
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("Alerts: thresholds per limit, one alert per limit, window and threshold, list, filter and acknowledge")
struct AlertsTests {
    static func usage(_ cost: String) -> String {
        #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":1},"cost_usd":"\#(cost)"}"#
    }

    @Test func limitsTakeThresholdsAndRefuseBadOnes() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let created = try await client.send(.post, "/api/v1/budgets/\(budget)/limits",
                                                #"{"period":"daily","amount":"10","policy":"warn","thresholds":["0.95","0.5",1,"0.5"]}"#)
            #expect(created.status == .created)
            #expect(created.json["thresholds"] as? [String] == ["0.5", "0.95", "1"])
            #expect(created.json["effective_thresholds"] as? [String] == ["0.5", "0.8", "0.95", "1"])
            let id = try #require(created.string("id"))

            for bad in [#"["0"]"#, #"["1.6"]"#, "[]", #"["abc"]"#, #""0.5""#] {
                let refused = try await client.send(.post, "/api/v1/budgets/\(budget)/limits", #"{"period":"daily","amount":"10","thresholds":\#(bad)}"#)
                #expect(refused.status == .badRequest, "thresholds \(bad)")
                #expect(refused.field?.hasPrefix("thresholds") == true, "thresholds \(bad): \(refused.text)")
                let patched = try await client.send(.patch, "/api/v1/limits/\(id)", #"{"thresholds":\#(bad)}"#)
                #expect(patched.status == .badRequest, "patch thresholds \(bad)")
            }
            let limits = try await client.send(.get, "/api/v1/budgets/\(budget)/limits?history=true")
            #expect(limits.items.count == 1, "refused requests changed nothing")

            let changed = try await client.send(.patch, "/api/v1/limits/\(id)", #"{"thresholds":["0.25"]}"#)
            #expect(changed.status == .ok)
            #expect(changed.json["version"] as? Int == 2)
            #expect(changed.json["thresholds"] as? [String] == ["0.25"])
            let amountOnly = try await client.send(.patch, "/api/v1/limits/\(id)", #"{"amount":"20"}"#)
            #expect(amountOnly.json["thresholds"] as? [String] == ["0.25"], "a change that does not name thresholds keeps them")
            let cleared = try await client.send(.patch, "/api/v1/limits/\(id)", #"{"thresholds":null}"#)
            #expect(cleared.json["thresholds"] is NSNull)
            #expect(cleared.json["effective_thresholds"] as? [String] == ["0.8"])
        }
    }

    @Test func eachThresholdAlertsOncePerWindowNeverPerRequest() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"period":"daily","amount":"10","policy":"warn","thresholds":["0.5","0.95","1"]}"#)
            func thresholdAlerts() async throws -> [[String: any Sendable]] {
                try await client.send(.get, "/api/v1/alerts?type=threshold_crossed").items
            }
            #expect(try await client.send(.post, "/api/v1/usage", Self.usage("3")).status == .created)
            #expect(try await thresholdAlerts().isEmpty, "30% reaches no threshold")

            #expect(try await client.send(.post, "/api/v1/usage", Self.usage("2")).status == .created)   // exactly 50%
            var alerts = try await thresholdAlerts()
            #expect(alerts.count == 1)
            #expect(alerts.first?["threshold"] as? String == "0.5")
            #expect(alerts.first?["limit_id"] as? String == limit)
            #expect(alerts.first?["budget_id"] as? String == budget)
            #expect(alerts.first?["severity"] as? String == "warning")

            for _ in 0..<3 { _ = try await client.send(.post, "/api/v1/usage", Self.usage("0.1")) }
            alerts = try await thresholdAlerts()
            #expect(alerts.count == 1, "more spend past the same threshold raises nothing new")
            #expect(alerts.first?["occurrences"] as? Int == 1)

            _ = try await client.send(.post, "/api/v1/usage", Self.usage("5"))   // 10.3 of 10: 0.8, 0.95 and 1 at once, and exceeded
            alerts = try await thresholdAlerts()
            #expect(alerts.compactMap { $0["threshold"] as? String }.sorted() == ["0.5", "0.8", "0.95", "1"])
            #expect(alerts.allSatisfy { $0["occurrences"] as? Int == 1 })
            #expect(alerts.first { $0["threshold"] as? String == "1" }?["severity"] as? String == "critical")
            let exceeded = try await client.send(.get, "/api/v1/alerts?type=limit_exceeded&limit_id=\(limit)").items
            #expect(exceeded.count == 1)
            _ = try await client.send(.post, "/api/v1/usage", Self.usage("1"))
            #expect(try await thresholdAlerts().count == 4)
            #expect(try await harness.scalar("SELECT sum(occurrences)::text FROM budget_events WHERE type = 'threshold_crossed'") == "4")
        }
    }

    @Test func reservationsDoNotCrossTheFurtherThresholds() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"10","policy":"warn","warn_at":"0.9","thresholds":["0.5"]}"#)
            let granted = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"6"}}"#)
            #expect(granted.status == .created)
            #expect(try await client.send(.get, "/api/v1/alerts?type=threshold_crossed").items.isEmpty)
            let id = try #require(granted.string("id"))
            _ = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":1},"cost_usd":"5.5"}"#)
            let alerts = try await client.send(.get, "/api/v1/alerts?type=threshold_crossed").items
            #expect(alerts.compactMap { $0["threshold"] as? String } == ["0.5"], "committed spend crosses it")
        }
    }

    @Test func criticalBypassesAreOneAlertPerLimitAndWindow() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            for _ in 0..<3 {
                let reply = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"2"},"priority":"critical"}"#)
                #expect(reply.json["bypass"] as? Bool == true)
            }
            let bypasses = try await client.send(.get, "/api/v1/alerts?type=critical_bypass").items
            #expect(bypasses.count == 1)
            #expect(bypasses.first?["occurrences"] as? Int == 3)
            #expect(bypasses.first?["window_key"] is String)
            #expect(bypasses.first?["budget_id"] as? String == budget)
        }
    }

    @Test func listFiltersPagesAndAcknowledges() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let other = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"p"},"period":"daily","amount":"10","policy":"warn","thresholds":["0.2","0.4"]}"#)
            _ = try await client.makeLimit(other, #"{"scope":{"provider":"q"},"period":"daily","amount":"10","policy":"warn"}"#)
            _ = try await client.send(.post, "/api/v1/usage", Self.usage("9"))   // 0.2, 0.4, 0.8 on budget
            _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"q","model":"m"},"usage":{"input_tokens":1},"cost_usd":"9"}"#)
            _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"q","model":"unknown-model"},"usage":{"input_tokens":1}}"#)

            let all = try await client.send(.get, "/api/v1/alerts")
            #expect(all.items.count == 5)
            let ids = all.items.compactMap { $0["id"] as? String }.compactMap { Int64($0) }
            #expect(ids == ids.sorted(by: >), "newest first")
            #expect(try await client.send(.get, "/api/v1/alerts?budget_id=\(budget)").items.count == 3)
            #expect(try await client.send(.get, "/api/v1/alerts?type=unpriced_usage").items.first?["budget_id"] is NSNull)
            #expect(try await client.send(.get, "/api/v1/alerts?type=unpriced_usage,threshold_crossed").items.count == 5)

            let first = try await client.send(.get, "/api/v1/alerts?limit=2")
            #expect(first.items.count == 2)
            let cursor = try #require(first.json["next_cursor"] as? String)
            let second = try await client.send(.get, "/api/v1/alerts?limit=2&cursor=\(cursor)")
            #expect(second.items.count == 2)
            #expect(Set(first.items.compactMap { $0["id"] as? String }).isDisjoint(with: second.items.compactMap { $0["id"] as? String }))

            let id = try #require(all.items.first?["id"] as? String)
            let acked = try await client.send(.post, "/api/v1/alerts/\(id)/ack", headers: [HTTPField.Name("X-Budget-Actor")!: "alice"])
            #expect(acked.status == .ok)
            #expect(acked.string("acknowledged_by") == "alice")
            let at = try #require(acked.string("acknowledged_at"))
            let again = try await client.send(.post, "/api/v1/alerts/\(id)/ack", headers: [HTTPField.Name("X-Budget-Actor")!: "bob"])
            #expect(again.string("acknowledged_by") == "alice", "the first acknowledgement stands")
            #expect(again.string("acknowledged_at") == at)
            #expect(try await client.send(.get, "/api/v1/alerts?acknowledged=false").items.count == 4)
            #expect(try await client.send(.get, "/api/v1/alerts?acknowledged=true").items.compactMap { $0["id"] as? String } == [id])
            #expect(try await client.send(.get, "/api/v1/alerts/\(id)").string("acknowledged_by") == "alice")

            #expect(try await client.send(.post, "/api/v1/alerts/999999/ack").status == .notFound)
            #expect(try await client.send(.post, "/api/v1/alerts/abc/ack").status == .notFound)
            let badType = try await client.send(.get, "/api/v1/alerts?type=nonsense")
            #expect(badType.status == .badRequest)
            #expect(badType.field == "type")
            #expect(try await client.send(.get, "/api/v1/alerts?acknowledged=maybe").field == "acknowledged")
            #expect(try await client.send(.get, "/api/v1/alerts?budget_id=x").field == "budget_id")
            #expect(try await client.send(.get, "/api/v1/alerts?since=yesterday").field == "since")
            #expect(try await client.send(.get, "/api/v1/alerts?cursor=!!!").status == .badRequest)
        }
    }
}
