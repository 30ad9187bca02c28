import BudgetAPI
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("Allocate → commit → release: reservations, exact cost, idempotency, expiry, bypass")
struct AllocationTests {
    let allocateBody = #"{"scope":{"component":"ergon","provider":"anthropic","model":"claude-sonnet-4-5"},"estimate":{"input_tokens":1000,"max_output_tokens":500}}"#

    @Test func grantThenCommitRecordsExactCostAndFreesTheReservation() async throws {
        let harness = try await APITestHarness.make()
        let allocateBody = self.allocateBody
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"scope":{"provider":"Anthropic"},"period":"daily","amount":"1.00"}"#)
            try await client.setPrice("anthropic", "claude-sonnet-4-5", input: "0.000003", output: "0.000015")

            let granted = try await client.send(.post, "/api/v1/allocations", allocateBody)
            #expect(granted.status == .created)
            #expect(granted.string("status") == "granted")
            #expect(granted.string("reserved_cost_usd") == "0.0105")       // 1000 × 0.000003 + 500 × 0.000015
            let limits = granted.json["limits"] as? [[String: any Sendable]]
            #expect(limits?.first?["limit_id"] as? String == limit)
            #expect(limits?.first?["reserved"] as? String == "0.0105")
            let id = try #require(granted.string("id"))

            let committed = try await client.send(.post, "/api/v1/allocations/\(id)/commit",
                                                  #"{"usage":{"input_tokens":1234,"output_tokens":567,"cache_read_tokens":100}}"#)
            #expect(committed.status == .ok)
            // 1234 × 0.000003 + 567 × 0.000015 + 100 × 0.000003 = 0.003702 + 0.008505 + 0.0003 (cache reads at the input price when none is set)
            #expect(committed.string("cost_usd") == "0.012507")
            #expect(committed.string("pricing_status") == "priced")
            #expect(committed.json["reservation_expired"] as? Bool == false)

            let status = try await client.send(.get, "/api/v1/status?provider=anthropic")
            #expect(status.items.first?["spent"] as? String == "0.012507")
            #expect(status.items.first?["reserved"] as? String == "0")
            #expect(status.items.first?["remaining"] as? String == "0.987493")

            let inspected = try await client.send(.get, "/api/v1/allocations/\(id)")
            #expect(inspected.string("status") == "committed")
            #expect(inspected.string("usage_id") == committed.string("usage_id"))
        }
    }

    @Test func commitAboveTheEstimateIsRecordedInFull() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"monthly","metric":"tokens","amount":"100000"}"#)
            let granted = try await client.send(.post, "/api/v1/allocations",
                                                #"{"scope":{"provider":"p","model":"m"},"estimate":{"input_tokens":100,"max_output_tokens":100}}"#)
            #expect(granted.json["reserved_tokens"] as? Int == 200)
            let id = try #require(granted.string("id"))
            let committed = try await client.send(.post, "/api/v1/allocations/\(id)/commit",
                                                  #"{"usage":{"input_tokens":5000,"output_tokens":7000},"cost_usd":"0.5"}"#)
            #expect(committed.status == .ok)
            #expect(committed.string("pricing_status") == "caller_priced")
            let status = try await client.send(.get, "/api/v1/status")
            #expect(status.items.first?["spent"] as? String == "12000")
            #expect(status.items.first?["reserved"] as? String == "0")
        }
    }

    @Test func commitRetriesAreIdempotentAndADifferentBodyIsAConflict() async throws {
        let harness = try await APITestHarness.make()
        let allocateBody = self.allocateBody
        try await harness.withApp { client in
            let id = try #require(try await client.send(.post, "/api/v1/allocations", allocateBody.replacingOccurrences(of: #""estimate":{"#, with: #""estimate":{"cost_usd":"0.01","#)).string("id"))
            let body = #"{"usage":{"input_tokens":10,"output_tokens":20},"cost_usd":"0.002"}"#
            let first = try await client.send(.post, "/api/v1/allocations/\(id)/commit", body)
            let retry = try await client.send(.post, "/api/v1/allocations/\(id)/commit", body)
            #expect(first.status == .ok && retry.status == .ok)
            #expect(first.string("usage_id") == retry.string("usage_id"))
            let different = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":11,"output_tokens":20},"cost_usd":"0.002"}"#)
            #expect(different.status == .conflict)
            #expect(different.code == "allocation_conflict")
            let rows = try await harness.scalar("SELECT count(*)::text FROM usage_records WHERE allocation_id = \(UUID(uuidString: id)!)")
            #expect(rows == "1", "a retried commit must not count twice")
        }
    }

    @Test func idempotencyKeyOnAllocateReturnsTheFirstAnswer() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let body = #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.25"}}"#
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "alloc-1"]
            let first = try await client.send(.post, "/api/v1/allocations", body, headers: key)
            let again = try await client.send(.post, "/api/v1/allocations", body, headers: key)
            #expect(first.status == .created && again.status == .created)
            #expect(first.string("id") == again.string("id"))
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await client.send(.post, "/api/v1/allocations", body.replacingOccurrences(of: "0.25", with: "0.26"), headers: key)
            #expect(other.status == .conflict)
            #expect(other.code == "idempotency_conflict")
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "1")
        }
    }

    @Test func aKeyedCommitRetryGetsTheFirstAnswerBackEvenWhenItWasAConflict() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let allocate = #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.1"}}"#
            let body = #"{"usage":{"input_tokens":10,"output_tokens":5},"cost_usd":"0.01"}"#

            // Released first: the keyed commit is a conflict, and so is its retry (it was a 500).
            let released = try #require(try await client.send(.post, "/api/v1/allocations", allocate).string("id"))
            #expect(try await client.send(.post, "/api/v1/allocations/\(released)/release").status == .ok)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "commit-after-release"]
            let refused = try await client.send(.post, "/api/v1/allocations/\(released)/commit", body, headers: key)
            #expect(refused.status == .conflict)
            #expect(refused.code == "allocation_conflict")
            let refusedAgain = try await client.send(.post, "/api/v1/allocations/\(released)/commit", body, headers: key)
            #expect(refusedAgain.status == .conflict)
            #expect(refusedAgain.code == "allocation_conflict")

            // Committed without a key, then retried with one, twice: the first commit's answer each time, one ledger row.
            let committed = try #require(try await client.send(.post, "/api/v1/allocations", allocate).string("id"))
            let first = try await client.send(.post, "/api/v1/allocations/\(committed)/commit", body)
            #expect(first.status == .ok)
            let retryKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "retry-with-a-key"]
            for _ in 0..<2 {
                let retry = try await client.send(.post, "/api/v1/allocations/\(committed)/commit", body, headers: retryKey)
                #expect(retry.status == .ok)
                #expect(retry.string("usage_id") == first.string("usage_id"))
            }
            let rows = try await harness.scalar("SELECT count(*)::text FROM usage_records WHERE allocation_id = \(UUID(uuidString: committed)!)")
            #expect(rows == "1")
            let unanswered = try await harness.scalar("SELECT count(*)::text FROM idempotency_keys WHERE response IS NULL")
            #expect(unanswered == "0", "every key taken by a commit keeps the answer it was given")
        }
    }

    @Test func releaseFreesTheReservationAndACommitAfterItIsAConflict() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let id = try #require(try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.4"}}"#).string("id"))
            #expect(try await client.send(.get, "/api/v1/status").items.first?["reserved"] as? String == "0.4")
            let released = try await client.send(.post, "/api/v1/allocations/\(id)/release")
            #expect(released.status == .ok)
            #expect(released.string("status") == "released")
            #expect(try await client.send(.get, "/api/v1/status").items.first?["reserved"] as? String == "0")
            let late = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":1}}"#)
            #expect(late.status == .conflict)
        }
    }

    @Test func expiredReservationsAreReleasedAndALateCommitStillCounts() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let body = #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.6"},"ttl_seconds":600}"#
            let id = try #require(try await client.send(.post, "/api/v1/allocations", body).string("id"))
            // A second 0.6 does not fit while the first is reserved…
            #expect(try await client.send(.post, "/api/v1/allocations", body).status == .tooManyRequests)
            // The TTL runs out (moved into the past here rather than waited for, so load cannot race it).
            try await harness.sql { sql in
                try await sql.query("UPDATE allocations SET expires_at = now() - interval '1 second' WHERE id = \(UUID(uuidString: id)!)")
            }
            // …and fits once the sweeper released the expired reservation.
            var reserved: String?
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(100))
                reserved = try await client.send(.get, "/api/v1/status").items.first?["reserved"] as? String
                if reserved == "0" { break }
            }
            #expect(reserved == "0")
            #expect(try await client.send(.get, "/api/v1/allocations/\(id)").string("status") == "expired")

            let late = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":10},"cost_usd":"0.3"}"#)
            #expect(late.status == .ok)
            #expect(late.json["reservation_expired"] as? Bool == true)
            #expect(try await client.send(.get, "/api/v1/status").items.first?["spent"] as? String == "0.3")
        }
    }

    @Test func criticalPriorityBypassesAnEnforceLimitAndIsRecorded() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"0.10"}"#)
            let normal = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.5"}}"#)
            #expect(normal.status == .tooManyRequests)
            let critical = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.5"},"priority":"critical"}"#)
            #expect(critical.status == .created)
            #expect(critical.json["bypass"] as? Bool == true)
            let id = try #require(critical.string("id"))
            #expect(try await client.send(.get, "/api/v1/allocations/\(id)").json["bypass"] as? Bool == true)
            #expect(try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'critical_bypass'") == "1")
            #expect(try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'allocation_denied'") == "1")
        }
    }

    @Test func unknownPriceIsRefusedUnderEnforceAndUnpricedOtherwise() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            let limit = try await client.makeLimit(budget, #"{"scope":{"provider":"mystery"},"period":"daily","amount":"5"}"#)
            let refused = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"mystery","model":"x-1"},"estimate":{"input_tokens":10}}"#)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.code == "price_unknown")
            let stated = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"mystery","model":"x-1"},"estimate":{"input_tokens":10,"cost_usd":"0.01"}}"#)
            #expect(stated.status == .created)

            // Under a warn limit the call goes through and its usage is recorded as unpriced: not free.
            #expect(try await client.send(.patch, "/api/v1/limits/\(limit)", #"{"policy":"warn"}"#).status == .ok)
            let allowed = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"mystery","model":"x-1"},"estimate":{"input_tokens":10}}"#)
            #expect(allowed.status == .created)
            let id = try #require(allowed.string("id"))
            let committed = try await client.send(.post, "/api/v1/allocations/\(id)/commit", #"{"usage":{"input_tokens":10,"output_tokens":5}}"#)
            #expect(committed.string("pricing_status") == "unpriced")
            #expect(committed.json["cost_usd"] is NSNull)
            #expect(try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'unpriced_usage'") == "1")
        }
    }

    @Test func checkDecidesWithoutReserving() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1"}"#)
            let fits = try await client.send(.post, "/api/v1/check", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"1"}}"#)
            #expect(fits.status == .ok)
            #expect(fits.json["allowed"] as? Bool == true)
            let tooMuch = try await client.send(.post, "/api/v1/check", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"1.000001"}}"#)
            #expect(tooMuch.json["allowed"] as? Bool == false)
            #expect((tooMuch.json["denied_by"] as? [String: any Sendable])?["remaining"] as? String == "1")
            #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "0")
        }
    }
}

@Suite("Warn limits never deny: they warn, and the crossing is recorded once per window")
struct WarnLimitTests {
    @Test func warnLimitWarnsRecordsOnceAndNeverDenies() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let budget = try await client.makeBudget()
            _ = try await client.makeLimit(budget, #"{"period":"daily","amount":"1","policy":"warn","warn_at":"0.5"}"#)
            let quiet = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.4"}}"#)
            #expect((quiet.json["warnings"] as? [String])?.isEmpty == true)
            for _ in 0..<3 {
                let loud = try await client.send(.post, "/api/v1/allocations", #"{"scope":{"provider":"p","model":"m"},"estimate":{"cost_usd":"0.4"}}"#)
                #expect(loud.status == .created, "a warn limit never denies")
                #expect((loud.json["warnings"] as? [String])?.isEmpty == false)
            }
            #expect(try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'threshold_crossed'") == "1")
            let status = try await client.send(.get, "/api/v1/status").items.first
            #expect(status?["state"] as? String == "exceeded")
            #expect(status?["remaining"] as? String == "-0.6")
        }
    }
}
