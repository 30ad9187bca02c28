import BudgetAPI
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

private let base = "/api/v1/compat/rhetor"

private extension Reply {
    /// Whether the raw JSON holds `"key":value` exactly as written (money is printed from the Decimal).
    func has(_ key: String, _ literal: String) -> Bool {
        text.contains("\"\(key)\":\(literal),") || text.contains("\"\(key)\":\(literal)}")
    }
}

@Suite("Rhetor compatibility API: Rhetor's shapes and field names, with its defects fixed")
struct RhetorCompatTests {
    @Test func aGlobalLimitDeniesAndTheCheckAnswersInRhetorsShape() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("anthropic", "claude-3-haiku-20240307", input: "0.00000025", output: "0.00000125")
            let set = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":0.0001,"enforcement":"enforce"}"#)
            #expect(set.status == .ok)
            #expect(set.json["success"] as? Bool == true)
            #expect(set.string("provider") == "all")

            // "hello world" = 4 tokens; the assumed reply = 126 → 4 × 0.00000025 + 126 × 0.00000125 = 0.0001585 > 0.0001
            let check = try await client.send(.post, "\(base)/check",
                                              #"{"provider":"anthropic","model":"claude-3-haiku-20240307","input_text":"hello world","component":"ergon","task_type":"chat"}"#)
            #expect(check.status == .ok)
            #expect(check.json["allowed"] as? Bool == false)
            #expect(check.string("reason") == "Daily budget limit exceeded")
            #expect(check.has("estimated_cost", "0.0001585"))
            #expect(check.has("limit", "0.0001"))
            #expect(check.has("daily_limit", "0.0001"))
            #expect(check.has("daily_usage", "0"))
            #expect(check.has("weekly_limit", "0"))
            #expect(check.string("policy") == "enforce")
            #expect(check.string("pricing_status") == "priced")
            let estimate = try #require(check.json["cost_estimate"] as? [String: any Sendable])
            #expect(estimate["input_tokens"] as? Int == 4)
            #expect(estimate["output_tokens"] as? Int == 126)
            #expect(estimate["tokens_estimated"] as? Bool == true)

            // Raising the global limit lets the same call through, with Rhetor's usage and limit fields.
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":"1.00","enforcement":"enforce"}"#)
            let allowed = try await client.send(.post, "\(base)/check",
                                                #"{"provider":"anthropic","model":"claude-3-haiku-20240307","input_tokens":1000,"output_tokens":200}"#)
            #expect(allowed.json["allowed"] as? Bool == true)
            #expect(allowed.json["reason"] is NSNull)
            #expect(allowed.has("estimated_cost", "0.0005"))   // 1000 × 0.00000025 + 200 × 0.00000125
            #expect(allowed.has("daily_limit", "1"))
            #expect((allowed.json["warnings"] as? [String])?.isEmpty == true)
        }
    }

    @Test func anUnknownModelIsNotFree() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // No limits: allowed, but the cost is unknown and said to be — never "Free model".
            let open = try await client.send(.post, "\(base)/check", #"{"provider":"acme","model":"mystery-1","input_tokens":100}"#)
            #expect(open.status == .ok)
            #expect(open.json["allowed"] as? Bool == true)
            #expect(open.json["estimated_cost"] is NSNull)
            #expect(open.string("pricing_status") == "unpriced")
            #expect(open.string("reason") != "Free model")
            #expect((open.json["warnings"] as? [String])?.contains { $0.contains("not free") } == true)

            // An enforce dollar limit cannot admit a call of unknown cost.
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"monthly","limit_amount":50,"enforcement":"enforce"}"#)
            let denied = try await client.send(.post, "\(base)/check", #"{"provider":"acme","model":"mystery-1","input_tokens":100}"#)
            #expect(denied.json["allowed"] as? Bool == false)
            #expect(denied.string("reason")?.hasPrefix("Unknown model price") == true)
            #expect(denied.has("monthly_limit", "50"))

            // Recording its cost as Rhetor does (caller-priced) is never lost and counts.
            let recorded = try await client.send(.post, "\(base)/record-cost",
                                                 #"{"request_id":"q-1","actual_cost":0.02,"provider":"acme","model":"mystery-1","input_tokens":100,"output_tokens":10}"#)
            #expect(recorded.status == .created)
            #expect(recorded.string("pricing_status") == "caller_priced")
            let status = try await client.send(.get, "\(base)/status")
            #expect(status.has("monthly_usage", "0.02"))      // the monthly limit's counter
            #expect(status.has("daily_usage", "0.02"))        // no daily limit: from the ledger
            #expect(status.has("daily_limit", "0"))
            let otherProvider = try await client.send(.get, "\(base)/status?period=weekly&category=openai")
            #expect(otherProvider.has("weekly_usage", "0"))   // Rhetor's usage is the provider's
        }
    }

    @Test func limitsAndPoliciesAreVersionsOfBudgetLimits() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let first = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":10,"provider":"Anthropic"}"#)
            #expect(first.status == .ok)
            #expect(first.string("enforcement") == "warn")    // Rhetor's default policy
            let limitID = try #require(first.string("limit_id"))
            let second = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":"20.5","provider":"anthropic"}"#)
            #expect(second.string("limit_id") == limitID)
            #expect(second.json["version"] as? Int == 2)
            let policy = try await client.send(.post, "\(base)/budget/policy", #"{"period":"daily","policy":"enforce","provider":"anthropic"}"#)
            #expect(policy.status == .ok)
            #expect(policy.json["version"] as? Int == 3)
            #expect(policy.has("limit_amount", "20.5"))

            let settings = try await client.send(.get, "\(base)/budget/settings")
            let daily = try #require(settings.json["daily"] as? [[String: any Sendable]])
            #expect(daily.count == 1)
            #expect(daily.first?["provider"] as? String == "anthropic")
            #expect(daily.first?["enforcement"] as? String == "enforce")
            #expect(settings.has("limit_amount", "20.5"))
            #expect((settings.json["weekly"] as? [Any])?.isEmpty == true)

            // Budget keeps the history Rhetor overwrote.
            let storedID = try await harness.scalar("SELECT id::text FROM budgets WHERE name = 'rhetor'")
            let budgetID = try #require(storedID)
            let history = try await client.send(.get, "/api/v1/budgets/\(budgetID)/limits?history=true")
            #expect(history.items.count == 3)

            // A policy without a limit decides nothing: refused, nothing written.
            let orphan = try await client.send(.post, "\(base)/budget/policy", #"{"period":"weekly","policy":"enforce"}"#)
            #expect(orphan.status == .notFound)
            #expect(orphan.code == "limit_not_found")
            // Bad input changes nothing.
            let bad = try await client.send(.post, "\(base)/budget/limit", #"{"period":"yearly","limit_amount":5}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.field == "period")
            let negative = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":-1}"#)
            #expect(negative.status == .badRequest)
            #expect(negative.field == "limit_amount")
            let countLimits = try await harness.scalar("SELECT count(*)::text FROM limits")
            #expect(countLimits == "3")

            // limit_amount 0 is Rhetor's "no limit": the limit is closed.
            let removed = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":0,"provider":"anthropic"}"#)
            #expect(removed.status == .ok)
            #expect(removed.json["closed_version"] as? Int == 3)
            let after = try await client.send(.get, "\(base)/budget/settings")
            #expect((after.json["daily"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aRhetorPolicyChangeKeepsTheAlertThresholdsAnOperatorGaveTheLimit() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":"10","provider":"openai","enforcement":"warn"}"#)
            let id = try #require(try await harness.scalar("SELECT id::text FROM limits WHERE valid_to IS NULL AND provider = 'openai'"))
            let patched = try await client.send(.patch, "/api/v1/limits/\(id)", #"{"thresholds":["0.5","0.9"]}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            let policy = try await client.send(.post, "\(base)/budget/policy", #"{"period":"daily","policy":"enforce","provider":"openai"}"#)
            #expect(policy.status == .ok, "\(policy.text)")
            let limit = try await client.send(.get, "/api/v1/limits/\(id)")
            #expect(limit.string("policy") == "enforce")
            #expect(limit.json["thresholds"] as? [String] == ["0.5", "0.9"])
            let raised = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":"20","provider":"openai"}"#)
            #expect(raised.status == .ok)
            #expect(try await client.send(.get, "/api/v1/limits/\(id)").json["thresholds"] as? [String] == ["0.5", "0.9"])
        }
    }

    @Test func allocateThenRecordCostAndUnknownRequestsAreRecordedDirectly() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":1,"enforcement":"enforce"}"#)
            let granted = try await client.send(.post, "\(base)/allocate",
                                                #"{"request_id":"r-1","cost_estimate":0.4,"provider":"openai","model":"gpt-4o","category":"chat"}"#)
            #expect(granted.status == .created)
            #expect(granted.json["allowed"] as? Bool == true)
            #expect(granted.has("reserved_cost", "0.4"))
            let grantedLimits = try #require(granted.json["limits"] as? [[String: any Sendable]])
            #expect(grantedLimits.first?["budget"] as? String == "rhetor")
            #expect(granted.has("reserved", "0.4"))
            let allocationID = try #require(granted.string("allocation_id"))
            let retried = try await client.send(.post, "\(base)/allocate",
                                                #"{"request_id":"r-1","cost_estimate":0.4,"provider":"openai","model":"gpt-4o","category":"chat"}"#)
            #expect(retried.string("allocation_id") == allocationID)

            let reserved = try await client.send(.get, "\(base)/status?period=daily")
            let limits = try #require(reserved.json["limits"] as? [[String: any Sendable]])
            #expect(reserved.has("reserved", "0.4"))
            #expect(limits.count == 1)

            let body = #"{"request_id":"r-1","actual_cost":0.3,"input_tokens":1200,"output_tokens":300}"#
            let committed = try await client.send(.post, "\(base)/record-cost", body)
            #expect(committed.status == .ok)
            #expect(committed.string("allocation_id") == allocationID)
            #expect(committed.has("cost", "0.3"))
            let again = try await client.send(.post, "\(base)/record-cost", body)
            #expect(again.status == .ok)
            #expect(again.string("usage_id") == committed.string("usage_id"))
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")

            // A cost for a request Budget never allocated is recorded, not lost.
            let direct = try await client.send(.post, "\(base)/record-cost",
                                               #"{"request_id":"r-unknown","actual_cost":"0.25","provider":"openai","model":"gpt-4o","input_tokens":10,"output_tokens":5}"#)
            #expect(direct.status == .created)
            #expect(direct.json["allocation_id"] is NSNull)
            let directAgain = try await client.send(.post, "\(base)/record-cost",
                                                    #"{"request_id":"r-unknown","actual_cost":"0.25","provider":"openai","model":"gpt-4o","input_tokens":10,"output_tokens":5}"#)
            #expect(directAgain.string("usage_id") == direct.string("usage_id"))
            let countUsageRecords = try await harness.scalar("SELECT count(*)::text FROM usage_records")
            #expect(countUsageRecords == "2")

            let status = try await client.send(.get, "\(base)/status?period=daily&category=all")
            #expect(status.has("daily_usage", "0.55"))
            #expect(status.has("reserved", "0"))

            // 0.55 spent + 0.5 asked > 1: the global enforce limit denies.
            let denied = try await client.send(.post, "\(base)/allocate", #"{"request_id":"r-3","cost_estimate":0.5,"provider":"openai","model":"gpt-4o"}"#)
            #expect(denied.status == .tooManyRequests)
            #expect(denied.code == "budget_exceeded")
            let error = try #require(denied.json["error"] as? [String: any Sendable])
            #expect(error["allowed"] as? Bool == false)
            #expect(error["reason"] as? String == "Daily budget limit exceeded")

            // Rhetor's usage summary, grouped.
            let summary = try await client.send(.get, "\(base)/budget/summary?period=daily&group_by=provider")
            #expect(summary.status == .ok)
            #expect(summary.has("total_cost", "0.55"))
            #expect(summary.json["count"] as? Int == 2)
            #expect(summary.json["total_input_tokens"] as? Int == 1210)
            let groups = try #require(summary.json["groups"] as? [String: [String: any Sendable]])
            #expect(groups["openai"]?["count"] as? Int == 2)
            let usage = try await client.send(.get, "\(base)/budget/usage")
            #expect(usage.string("period") == "daily")
            #expect(usage.string("group_by") == "provider")
            let badGroup = try await client.send(.get, "\(base)/budget/summary?group_by=colour")
            #expect(badGroup.status == .badRequest)
            #expect(badGroup.field == "group_by")
        }
    }

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let noInput = try await client.send(.post, "\(base)/check", #"{"provider":"openai","model":"gpt-4o"}"#)
            #expect(noInput.status == .badRequest)
            let negative = try await client.send(.post, "\(base)/record-cost", #"{"request_id":"x","actual_cost":-0.1}"#)
            #expect(negative.status == .badRequest)
            #expect(negative.field == "actual_cost")
            let fractionalTokens = try await client.send(.post, "\(base)/record-cost", #"{"request_id":"x","actual_cost":0.1,"input_tokens":1.5}"#)
            #expect(fractionalTokens.status == .badRequest)
            #expect(fractionalTokens.field == "input_tokens")
            let noRequest = try await client.send(.post, "\(base)/allocate", #"{"cost_estimate":0.1}"#)
            #expect(noRequest.status == .badRequest)
            #expect(noRequest.field == "request_id")
            let malformed = try await client.send(.post, "\(base)/reset", #"{"period":"#)
            #expect(malformed.status == .badRequest)
            let badPeriod = try await client.send(.post, "\(base)/reset", #"{"period":"hourly"}"#)
            #expect(badPeriod.status == .badRequest)
            let countUsageRecords = try await harness.scalar("SELECT count(*)::text FROM usage_records")
            #expect(countUsageRecords == "0")
            let countWindowResets = try await harness.scalar("SELECT count(*)::text FROM window_resets")
            #expect(countWindowResets == "0")
            let countAllocations = try await harness.scalar("SELECT count(*)::text FROM allocations")
            #expect(countAllocations == "0")
        }
    }

    @Test func resetStartsANewWindowNowAndIsAudited() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":1,"enforcement":"enforce"}"#)
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"weekly","limit_amount":5,"enforcement":"enforce"}"#)
            let spent = try await client.send(.post, "\(base)/record-cost", #"{"request_id":"a","actual_cost":0.9,"provider":"openai","model":"gpt-4o"}"#)
            #expect(spent.status == .created)
            let before = try await client.send(.post, "\(base)/check", #"{"provider":"openai","model":"gpt-4o","input_tokens":1}"#)
            #expect(before.has("daily_usage", "0.9"))

            let reset = try await client.send(.post, "\(base)/reset", #"{"period":"daily","reason":"new day for the demo"}"#,
                                              headers: [HTTPField.Name("X-Budget-Actor")!: "ops@example"])
            #expect(reset.status == .created)
            #expect(reset.string("period") == "daily")
            let resetAt = try #require(reset.string("reset_at"))

            // Spend before the reset no longer counts in the daily window; the weekly one keeps it.
            let status = try await client.send(.get, "\(base)/status")
            #expect(status.has("daily_usage", "0"))
            #expect(status.has("weekly_usage", "0.9"))
            let limits = try #require(status.json["limits"] as? [[String: any Sendable]])
            #expect(limits.first { $0["period"] as? String == "daily" }?["window_start"] as? String == resetAt)
            let allocated = try await client.send(.post, "\(base)/allocate", #"{"request_id":"b","cost_estimate":0.95,"provider":"openai","model":"gpt-4o"}"#)
            #expect(allocated.status == .created)
            let summary = try await client.send(.get, "\(base)/budget/summary?period=daily")
            #expect(summary.has("total_cost", "0"))

            // The audit trail: who, why, when; and it cannot be edited.
            let listed = try await client.send(.get, "\(base)/resets")
            #expect(listed.items.count == 1)
            #expect(listed.items.first?["reset_by"] as? String == "ops@example")
            #expect(listed.items.first?["reset_at"] as? String == resetAt)
            let audit = try await harness.scalar("SELECT reset_by || '|' || reason || '|' || period FROM window_resets")
            #expect(audit == "ops@example|new day for the demo|daily")
            await #expect(throws: (any Error).self) {
                try await harness.sql { client in
                    for try await _ in try await client.query("DELETE FROM window_resets") {}
                    return true
                }
            }
        }
    }

    @Test func aResetDuringConcurrentSpendCountsEveryCallInExactlyOneDailyWindow() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":1000,"enforcement":"enforce"}"#)
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"weekly","limit_amount":1000,"enforcement":"enforce"}"#)
            // A connection per caller: really concurrent (the test client would pipeline them on one).
            let statuses = try await PatientHTTP.withClient(connections: 60) { http in
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for index in 0..<60 {
                        group.addTask {
                            if index == 30 {
                                return try await PatientHTTP.send(http, to: client, .post, "\(base)/reset", #"{"period":"daily","reason":"storm"}"#).status
                            }
                            let body = #"{"request_id":"storm-\#(index)","actual_cost":"0.01","provider":"openai","model":"gpt-4o"}"#
                            return try await PatientHTTP.send(http, to: client, .post, "\(base)/record-cost", body).status
                        }
                    }
                    var all: [HTTPResponse.Status] = []
                    for try await status in group { all.append(status) }
                    return all
                }
            }
            #expect(statuses.filter { $0 == .created }.count == 60)

            // Every call counts once in the week, and in the daily window its time falls in:
            // the counter after the reset holds exactly the ledger's spend since the reset.
            let status = try await client.send(.get, "\(base)/status")
            #expect(status.has("weekly_usage", "0.59"))
            let afterReset = try await harness.scalar("""
                SELECT coalesce(sum(cost_usd), 0)::text FROM usage_records WHERE occurred_at >= (SELECT reset_at FROM window_resets)
                """)
            let counter = try await harness.scalar("SELECT spent::text FROM limit_windows WHERE window_key LIKE '%@reset:%'")
            #expect(counter != nil && counter == afterReset, "reset window \(counter ?? "none"), ledger since the reset \(afterReset ?? "none")")
            let beforeReset = try await harness.scalar("""
                SELECT coalesce(sum(cost_usd), 0)::text FROM usage_records WHERE occurred_at < (SELECT reset_at FROM window_resets)
                """)
            let natural = try await harness.scalar("""
                SELECT spent::text FROM limit_windows w JOIN limits l ON l.id = w.limit_id AND l.valid_to IS NULL
                WHERE l.period = 'daily' AND w.window_key NOT LIKE '%@reset:%'
                """)
            // The counter of the natural window exists when a call came before the reset.
            #expect(natural == nil ? beforeReset == "0" : natural == beforeReset,
                    "natural window \(natural ?? "none"), ledger before the reset \(beforeReset ?? "none")")
        }
    }

    @Test func moneyTravelsAsExactNumbers() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // 21 significant digits: a binary float would not keep them.
            let recorded = try await client.send(.post, "\(base)/record-cost",
                                                 #"{"request_id":"exact","actual_cost":0.300000000000000000007,"provider":"openai","model":"gpt-4o"}"#)
            #expect(recorded.status == .created)
            #expect(recorded.has("cost", "0.300000000000000000007"))
            let stored = try await harness.scalar("SELECT cost_usd::text FROM usage_records")
            #expect(stored == "0.300000000000000000007")
            let summary = try await client.send(.get, "\(base)/budget/summary")
            #expect(summary.has("total_cost", "0.300000000000000000007"))
        }
    }

    @Test func modelTiersAndTheOverview() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("openai", "gpt-4", input: "0.00003", output: "0.00006")
            try await client.setPrice("ollama", "llama3", input: "0", output: "0")
            let tiers = try await client.send(.get, "\(base)/budget/model-tiers")
            #expect(tiers.status == .ok)
            let high = try #require(tiers.json["high"] as? [[String: any Sendable]])
            #expect(high.first?["model"] as? String == "gpt-4")
            #expect(tiers.has("cost_per_1k_tokens", "0.09"))
            #expect((tiers.json["free"] as? [[String: any Sendable]])?.first?["model"] as? String == "llama3")

            let overview = try await client.send(.get, "\(base)/budget")
            #expect(overview.status == .ok)
            #expect((overview.json["budget"] as? [String: any Sendable])?["name"] as? String == "rhetor")
            #expect(overview.json["settings"] is [String: Any])
            #expect(overview.has("monthly_limit", "0"))
        }
    }

    /// A regional variant's price (`bedrock[us]`) is a deployment's, not a provider a caller can
    /// name: routing never offers it, even when it is the only cheaper price.
    @Test func routingNeverOffersARegionalVariant() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("anthropic", "claude-3-opus", input: "0.000015", output: "0.000075")
            try await client.setPrice("bedrock%5Bus%5D", "claude-3-haiku", input: "0.00000025", output: "0.00000125")
            let alternative = try await client.send(.get, "\(base)/cheaper-alternative?provider=anthropic&model=claude-3-opus")
            #expect(alternative.status == .ok && alternative.json["alternative"] is NSNull, "\(alternative.text)")
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":0.01,"enforcement":"enforce"}"#)
            let routed = try await client.send(.post, "\(base)/route",
                #"{"default_provider":"anthropic","default_model":"claude-3-opus","input_tokens":1000,"output_tokens":1000}"#)
            #expect(routed.string("route") == "emergency" && routed.string("provider") == "anthropic", "\(routed.text)")
        }
    }

    /// find_cheaper_alternative and route_with_budget_awareness on Budget's prices and limits: the
    /// default model while it fits, then the preferred cheaper one, then a free one, and the
    /// default with a warning when nothing fits.
    @Test func routingFallsBackFromTheDefaultToACheaperThenAFreeModel() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            try await client.setPrice("anthropic", "claude-3-opus", input: "0.000015", output: "0.000075")
            try await client.setPrice("anthropic", "claude-3-haiku", input: "0.00000025", output: "0.00000125")
            try await client.setPrice("openai", "gpt-4o-mini", input: "0.00000015", output: "0.0000006")
            try await client.setPrice("ollama", "llama3", input: "0", output: "0")

            let forCode = try await client.send(.get, "\(base)/cheaper-alternative?provider=anthropic&model=claude-3-opus&task_type=code")
            #expect((forCode.json["alternative"] as? [String: any Sendable])?["model"] as? String == "claude-3-haiku")
            #expect((forCode.json["current"] as? [String: any Sendable])?["model"] as? String == "claude-3-opus")
            #expect(forCode.has("cost_per_1k_tokens", "0.09"))
            let forChat = try await client.send(.get, "\(base)/cheaper-alternative?provider=anthropic&model=claude-3-opus&task_type=chat")
            #expect((forChat.json["alternative"] as? [String: any Sendable])?["model"] as? String == "gpt-4o-mini")
            let unknown = try await client.send(.get, "\(base)/cheaper-alternative?provider=acme&model=nothing")
            #expect(unknown.status == .ok && unknown.json["current"] is NSNull && unknown.json["alternative"] is NSNull)
            #expect(try await client.send(.get, "\(base)/cheaper-alternative?provider=acme").status == .badRequest)

            let call = #"{"default_provider":"anthropic","default_model":"claude-3-opus","input_tokens":1000,"output_tokens":1000,"task_type":"code"}"#
            let free = try await client.send(.post, "\(base)/route", call)
            #expect(free.status == .ok && free.string("route") == "default" && free.string("model") == "claude-3-opus")
            #expect(free.has("estimated_cost", "0.09"))

            // $0.01 a day for anthropic: opus (0.09) no longer fits, haiku (0.0015) does.
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":0.01,"provider":"anthropic","enforcement":"enforce"}"#)
            let cheaper = try await client.send(.post, "\(base)/route", call)
            #expect(cheaper.string("route") == "cheaper" && cheaper.string("provider") == "anthropic" && cheaper.string("model") == "claude-3-haiku")
            #expect((cheaper.json["warnings"] as? [String])?.contains { $0.contains("does not fit the budget") } == true)
            #expect((cheaper.json["tried"] as? [[String: any Sendable]])?.first?["reason"] as? String == "Daily budget limit exceeded")

            // $0.0001 a day for everything: only a free model fits.
            _ = try await client.send(.post, "\(base)/budget/limit", #"{"period":"daily","limit_amount":0.0001,"enforcement":"enforce"}"#)
            let freeModel = try await client.send(.post, "\(base)/route", call)
            #expect(freeModel.string("route") == "free" && freeModel.string("provider") == "ollama" && freeModel.string("model") == "llama3")

            // Spend already past the global limit: nothing fits, the default comes back with a warning.
            let spent = try await client.send(.post, "\(base)/record-cost", #"{"request_id":"r-over","actual_cost":0.001,"provider":"openai","model":"gpt-4o-mini"}"#)
            #expect(spent.status == .created)   // no allocation for the request: recorded directly
            let emergency = try await client.send(.post, "\(base)/route", call)
            #expect(emergency.string("route") == "emergency" && emergency.string("model") == "claude-3-opus" && emergency.json["allowed"] as? Bool == false)
            #expect((emergency.json["tried"] as? [Any])?.count == 3)   // default, cheaper, free (also the cheapest: tried once)

            let missing = try await client.send(.post, "\(base)/route", #"{"default_model":"claude-3-opus","input_tokens":5}"#)
            #expect(missing.status == .badRequest && missing.field == "default_provider")
            return ()
        }
        // Routing only checks: nothing is reserved or recorded but the one cost reported.
        #expect(try await harness.scalar("SELECT count(*)::text FROM allocations") == "0")
        #expect(try await harness.scalar("SELECT count(*)::text FROM usage_records") == "1")
    }
}
