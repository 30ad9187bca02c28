import BudgetAPI
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("Bad input gets a clear 4xx with a JSON body and changes nothing")
struct ValidationTests {
    @Test func malformedJSONWrongTypesAndMissingFields() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let malformed = try await client.send(.post, "/api/v1/budgets", #"{"name": "#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.code == "malformed_json")

            let wrongType = try await client.send(.post, "/api/v1/budgets", #"{"name": 42}"#)
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.field == "name")

            let missing = try await client.send(.post, "/api/v1/budgets", #"{"owner":"me"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.field == "name")

            let badZone = try await client.send(.post, "/api/v1/budgets", #"{"name":"x","timezone":"Mars/Olympus"}"#)
            #expect(badZone.status == .badRequest)
            #expect(badZone.field == "timezone")

            let empty = try await client.send(.post, "/api/v1/allocations")
            #expect(empty.status == .badRequest)
            #expect(try await harness.scalar("SELECT count(*)::text FROM budgets") == "0")
        }
    }

    @Test func limitValuesAreChecked() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let cases: [(String, String)] = [
                (#"{"period":"fortnightly","amount":"1"}"#, "period"),
                (#"{"period":"daily","amount":"-1"}"#, "amount"),
                (#"{"period":"daily","amount":1.5}"#, "amount"),
                (#"{"period":"daily","amount":"1O"}"#, "amount"),
                (#"{"period":"daily","metric":"tokens","amount":"10.5"}"#, "amount"),
                (#"{"period":"daily","amount":"1","policy":"strict"}"#, "policy"),
                (#"{"period":"daily","amount":"1","warn_at":1.5}"#, "warn_at"),
                (#"{"period":"daily"}"#, "amount"),
            ]
            for (body, field) in cases {
                let reply = try await client.send(.post, "/api/v1/budgets/\(budget)/limits", body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(reply.field == field, "\(body): \(reply.text)")
            }
            #expect(try await harness.scalar("SELECT count(*)::text FROM limits") == "0")
        }
    }

    @Test func tokenCountsUpToTwoToThe63MinusOneAndNoFurther() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let max = #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":9223372036854775807},"cost_usd":"0"}"#
            let accepted = try await client.send(.post, "/api/v1/usage", max)
            #expect(accepted.status == .created)
            #expect((accepted.json["usage"] as? [String: any Sendable])?["input_tokens"] as? Int == Int.max)
            #expect(try await harness.scalar("SELECT input_tokens::text FROM usage_records") == "9223372036854775807")

            let tooBig = try await client.send(.post, "/api/v1/usage", max.replacingOccurrences(of: "9223372036854775807", with: "9223372036854775808"))
            #expect(tooBig.status == .badRequest)
            let overflowingSum = try await client.send(.post, "/api/v1/usage",
                #"{"scope":{"provider":"p"},"usage":{"input_tokens":9223372036854775807,"output_tokens":1}}"#)
            #expect(overflowingSum.status == .badRequest)
            let negative = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p"},"usage":{"input_tokens":-1}}"#)
            #expect(negative.status == .badRequest)
            #expect(negative.field == "usage.input_tokens")
            let reasoning = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p"},"usage":{"output_tokens":1,"reasoning_tokens":2}}"#)
            #expect(reasoning.field == "usage.reasoning_tokens")
            let floatMoney = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"p"},"usage":{"input_tokens":1},"cost_usd":0.1}"#)
            #expect(floatMoney.status == .badRequest)
            #expect(floatMoney.field == "cost_usd")
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "1")
        }
    }

    @Test func unknownIdsAre404AndStateConflictsAre409And422() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let nobody = UUID().uuidString
            #expect(try await client.send(.get, "/api/v1/budgets/\(nobody)").status == .notFound)
            #expect(try await client.send(.get, "/api/v1/budgets/not-a-uuid").status == .notFound)
            #expect(try await client.send(.post, "/api/v1/budgets/\(nobody)/limits", #"{"period":"daily","amount":"1"}"#).status == .notFound)
            #expect(try await client.send(.get, "/api/v1/allocations/\(nobody)").status == .notFound)
            #expect(try await client.send(.post, "/api/v1/allocations/\(nobody)/commit", #"{"usage":{"input_tokens":1}}"#).status == .notFound)
            #expect(try await client.send(.post, "/api/v1/allocations/\(nobody)/release").status == .notFound)
            #expect(try await client.send(.delete, "/api/v1/limits/\(nobody)").status == .notFound)

            _ = try await client.makeBudget("twice")
            let duplicate = try await client.send(.post, "/api/v1/budgets", #"{"name":"twice"}"#)
            #expect(duplicate.status == .conflict)

            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let immutable = try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"period":"weekly"}"#)
            #expect(immutable.status == .unprocessableContent)
            #expect(immutable.code == "immutable_field")
        }
    }

    @Test func batchIsAllOrNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let good = #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":5},"cost_usd":"0.001"}"#
            let bad = #"{"scope":{"provider":"p","model":"m"},"usage":{"input_tokens":-5}}"#
            let refused = try await client.send(.post, "/api/v1/usage/batch", #"{"records":[\#(good),\#(good),\#(bad)]}"#)
            #expect(refused.status == .badRequest)
            #expect(refused.field == "records[2].usage.input_tokens")
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "0")

            let empty = try await client.send(.post, "/api/v1/usage/batch", #"{"records":[]}"#)
            #expect(empty.status == .badRequest)
            let tooMany = try await client.send(.post, "/api/v1/usage/batch", #"{"records":[\#(Array(repeating: good, count: 10_001).joined(separator: ","))]}"#)
            #expect(tooMany.status == .badRequest)
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "0")
        }
    }
}

@Suite("The ledger: direct usage, batches of 10,000, pages, limit history")
struct LedgerTests {
    @Test func batchOfTenThousandIsStoredWholeAndCounted() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"P"},"period":"monthly","amount":"1000000","policy":"ignore"}"#)
            try await client.setPrice("p", "m", input: "0.0000001", output: "0.0000002")
            let records = (0..<10_000).map { index in
                #"{"scope":{"component":"c\#(index % 7)","provider":"p","model":"m"},"usage":{"input_tokens":\#(index),"output_tokens":3},"metadata":{"n":\#(index)}}"#
            }
            let body = #"{"records":[\#(records.joined(separator: ","))]}"#
            let reply = try await PatientHTTP.withClient { http in try await PatientHTTP.send(http, to: client, .post, "/api/v1/usage/batch", body) }
            #expect(reply.status == .created)
            #expect(reply.json["count"] as? Int == 10_000)
            #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "10000")
            // Σ index × 0.0000001 + 10000 × 3 × 0.0000002 = 4.9995 + 0.006
            #expect(try await harness.scalar("SELECT sum(cost_usd)::text FROM usage_records") == "5.0055000")
            #expect(try await client.send(.get, "/api/v1/status").items.first?["spent"] as? String == "5.0055")
        }
    }

    @Test func usagePagesWithACursorUntilTheEnd() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            for minute in 0..<25 {
                let at = String(format: "2026-11-20T10:%02d:00Z", minute)
                _ = try await client.send(.post, "/api/v1/usage", #"{"occurred_at":"\#(at)","scope":{"component":"pager","provider":"p"},"usage":{"input_tokens":1},"cost_usd":"0"}"#)
            }
            var seen: [String] = []
            var cursor: String? = nil
            repeat {
                let path = "/api/v1/usage?component=pager&limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, path)
                seen += page.items.compactMap { $0["occurred_at"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 25)
            #expect(seen.first == "2026-11-20T10:24:00.000Z")
            #expect(seen.last == "2026-11-20T10:00:00.000Z")
            let window = try await client.send(.get, "/api/v1/usage?from=2026-11-20T10:05:00Z&to=2026-11-20T10:10:00Z")
            #expect(window.items.count == 5)
        }
    }

    @Test func changingALimitKeepsItsHistory() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let changed = try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"amount":"2.50","warn_at":"0.9"}"#)
            #expect(changed.status == .ok)
            #expect(changed.json["version"] as? Int == 2)
            #expect(changed.string("amount") == "2.5")
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/limits").items.count == 1)
            let history = try await client.send(.get, "/api/v1/budgets/\(budget)/limits?history=true").items
            #expect(history.count == 2)
            #expect(history.first?["valid_to"] is String)
            #expect(try await client.send(.delete, "/api/v1/limits/\(limit)").status == .noContent)
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/limits").items.isEmpty)
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/limits?history=true").items.count == 2)
        }
    }

    @Test func retriedChangesWithAnIdempotencyKeyHappenOnce() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "raise-1"]
            let first = try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"amount":"2"}"#, headers: key)
            let retry = try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"amount":"2"}"#, headers: key)
            #expect(first.json["version"] as? Int == 2)
            #expect(retry.json["version"] as? Int == 2, "the retry returns the first answer, not a third version")
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await client.send(.get, "/api/v1/budgets/\(budget)/limits?history=true").items.count == 2)

            let deleteKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "drop-1"]
            #expect(try await client.send(.delete, "/api/v1/budgets/\(budget)", headers: deleteKey).status == .noContent)
            #expect(try await client.send(.delete, "/api/v1/budgets/\(budget)", headers: deleteKey).status == .noContent)
            #expect(try await client.send(.delete, "/api/v1/budgets/\(budget)").status == .notFound, "without the key it is gone")
        }
    }

    @Test func aLimitAddedMidWindowCountsTheSpendAlreadyInTheLedger() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "/api/v1/usage", #"{"scope":{"provider":"Early","model":"m"},"usage":{"input_tokens":1},"cost_usd":"0.70"}"#)
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"scope":{"provider":"early"},"period":"monthly","amount":"1"}"#)
            let denied = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"early","model":"m"},"estimate":{"cost_usd":"0.31"}}"#)
            #expect(denied.status == .tooManyRequests)
            #expect(denied.headers[.retryAfter] != nil)
            let limitState = (denied.json["error"] as? [String: any Sendable])?["limit"] as? [String: any Sendable]
            #expect(limitState?["spent"] as? String == "0.7")
            #expect(limitState?["remaining"] as? String == "0.3")
            #expect(try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"early","model":"m"},"estimate":{"cost_usd":"0.30"}}"#).status == .created)
        }
    }
}
