import BudgetAPI
import BudgetCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@Suite("Apollo compatibility API: Apollo's shapes, with its defects fixed")
struct ApolloCompatTests {
    static let base = "/api/v1/compat/apollo"

    /// The summary row of a tier for a period.
    static func summary(_ client: any TestClientProtocol, tier: String, period: String = "daily") async throws -> [String: any Sendable] {
        let reply = try await client.send(.get, "\(base)/summary?tier=\(tier)&period=\(period)")
        let rows = (try JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [[String: any Sendable]]) ?? []
        guard let row = rows.first else { throw JSONShapeError(body: reply.text) }
        return row
    }

    @Test func allocateRecordReleaseAndSummaryInApollosShapes() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // A dated model id resolves like its base name (Apollo fell through to the provider).
            let granted = try await client.send(.post, "\(Self.base)/allocate",
                #"{"contextId":"ctx-1","component":"ergon","taskType":"coding","provider":"ollama","model":"claude-3-opus-20240229","priority":5}"#)
            #expect(granted.status == .created)
            #expect(granted.string("tier") == "remote_heavyweight")
            #expect(granted.json["tokensAllocated"] as? Int == 8000)          // DEFAULT_ALLOCATIONS coding/NORMAL
            #expect(granted.json["tokensUsed"] as? Int == 0)
            #expect(granted.json["isActive"] as? Bool == true)
            #expect(granted.string("contextId") == "ctx-1")
            #expect(granted.string("allocationId") != nil && granted.string("expirationTime") != nil)

            var daily = try await Self.summary(client, tier: "remote_heavyweight")
            #expect(daily["limit"] as? Int == 1_000_000)
            #expect(daily["totalAllocated"] as? Int == 8000)
            #expect(daily["totalUsed"] as? Int == 0)
            #expect(daily["reserved"] as? Int == 8000)                         // reserved tokens count
            #expect(daily["activeAllocations"] as? Int == 1)

            let used = try await client.send(.post, "\(Self.base)/allocations/ctx-1/usage", #"{"tokens":3000,"usageType":"input","operationId":"op-1"}"#)
            #expect(used.status == .ok)
            #expect(used.json["tokensRecorded"] as? Int == 3000)
            #expect(used.json["overuseTokens"] as? Int == 0)
            let record = used.json["record"] as? [String: any Sendable]
            #expect(record?["tokensUsed"] as? Int == 3000 && record?["usageType"] as? String == "input" && record?["operationId"] as? String == "op-1")
            daily = try await Self.summary(client, tier: "remote_heavyweight")
            #expect(daily["totalUsed"] as? Int == 3000)
            #expect(daily["reserved"] as? Int == 5000)                         // the reservation shrank: nothing counted twice

            // Beyond the allocation: recorded in full (Apollo dropped it).
            let over = try await client.send(.post, "\(Self.base)/allocations/ctx-1/usage", #"{"tokens":6000,"usage_type":"output"}"#)
            #expect(over.json["tokensRecorded"] as? Int == 6000)
            #expect(over.json["overuseTokens"] as? Int == 1000)
            let afterOver = over.json["allocation"] as? [String: any Sendable]
            #expect(afterOver?["tokensUsed"] as? Int == 9000 && afterOver?["remainingTokens"] as? Int == 0)
            daily = try await Self.summary(client, tier: "remote_heavyweight")
            #expect(daily["totalUsed"] as? Int == 9000)
            #expect(daily["reserved"] as? Int == 0)

            let released = try await client.send(.post, "\(Self.base)/allocations/ctx-1/release")
            #expect(released.status == .ok)
            #expect(released.json["isActive"] as? Bool == false)
            let status = try await client.send(.get, "\(Self.base)/allocations/ctx-1")
            #expect(status.json["tokensUsed"] as? Int == 9000)
            #expect(status.string("status") == "released")
            daily = try await Self.summary(client, tier: "remote_heavyweight")
            #expect(daily["totalUsed"] as? Int == 9000 && daily["reserved"] as? Int == 0 && daily["activeAllocations"] as? Int == 0)

            // Usage after release still happened: recorded.
            let late = try await client.send(.post, "\(Self.base)/allocations/ctx-1/usage", #"{"tokens":10}"#)
            #expect(late.status == .ok)
            return ()
        }
        let ledger = try await harness.scalar("""
            SELECT count(*)::text || '/' || sum(input_tokens + output_tokens)::text || '/' || min(tier) || '/' || min(origin)
            FROM usage_records WHERE metadata->>'apollo_context_id' = 'ctx-1'
            """)
        #expect(ledger == "3/9010/remote_heavyweight/apollo_compat")
    }

    @Test func aHardLimitDeniesWhilePriorityTenBypassesAndIsRecorded() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let set = try await client.send(.put, "\(Self.base)/limits",
                #"{"tier":"remote_heavyweight","period":"daily","limit":10000,"type":"hard_limit"}"#)
            #expect(set.status == .created)
            #expect(set.string("type") == "hard_limit" && set.string("budgetPolicy") == "enforce")
            let policyID = try #require(set.string("policyId"))

            let first = try await client.send(.post, "\(Self.base)/allocate", #"{"context_id":"a","component":"ergon","provider":"anthropic","token_count":8000}"#)
            #expect(first.status == .created)
            // Nothing used yet: the reservation alone leaves too little (Apollo never counted it).
            let denied = try await client.send(.post, "\(Self.base)/allocate", #"{"context_id":"b","component":"ergon","provider":"anthropic","token_count":4000}"#)
            #expect(denied.status == .tooManyRequests)
            #expect(denied.code == "budget_exceeded")
            let error = denied.json["error"] as? [String: any Sendable]
            #expect(error?["policyId"] as? String == policyID)
            #expect(denied.headers[.retryAfter] != nil)
            let missing = try await client.send(.get, "\(Self.base)/allocations/b")
            #expect(missing.status == .notFound)

            let critical = try await client.send(.post, "\(Self.base)/allocate",
                #"{"context_id":"c","component":"ergon","provider":"anthropic","token_count":4000,"priority":10}"#)
            #expect(critical.status == .created)
            #expect(critical.json["bypass"] as? Bool == true)
            #expect(critical.json["priority"] as? Int == 10)
            return ()
        }
        let bypasses = try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'critical_bypass'")
        #expect(bypasses == "1")
        let denials = try await harness.scalar("SELECT count(*)::text FROM budget_events WHERE type = 'allocation_denied'")
        #expect(denials == "1")
    }

    @Test func aNewAllocateForAContextReplacesTheOldReservation() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            _ = try await client.send(.post, "\(Self.base)/allocate", #"{"contextId":"same","component":"x","model":"qwen","tokenCount":5000}"#)
            let again = try await client.send(.post, "\(Self.base)/allocate", #"{"contextId":"same","component":"x","model":"qwen","tokenCount":3000}"#)
            #expect(again.status == .created)
            #expect(again.string("tier") == "local_midweight")
            let daily = try await Self.summary(client, tier: "local_midweight")
            #expect(daily["reserved"] as? Int == 3000)
            #expect(daily["totalAllocated"] as? Int == 3000)
        }
    }

    static func key(_ value: String) -> HTTPFields { [HTTPField.Name("Idempotency-Key")!: value] }

    /// Each write retried with its key: the first answer comes back marked as a replay, nothing is
    /// done twice, and the key with another request is a 409.
    @Test func everyWriteTakesAnIdempotencyKeyAndARetryGetsTheFirstAnswer() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            // A PUT without a policy id makes a new policy each time: the retry must not.
            let limit = #"{"tier":"local_lightweight","period":"daily","limit":50000,"type":"warn"}"#
            let set = try await client.send(.put, "\(Self.base)/limits", limit, headers: Self.key("limit-1"))
            let setAgain = try await client.send(.put, "\(Self.base)/limits", limit, headers: Self.key("limit-1"))
            #expect(set.status == .created && setAgain.status == .created)
            #expect(setAgain.string("policyId") == set.string("policyId"))
            #expect(setAgain.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")

            let allocate = #"{"context_id":"k","component":"ergon","model":"qwen","token_count":5000}"#
            let granted = try await client.send(.post, "\(Self.base)/allocate", allocate, headers: Self.key("alloc-1"))
            let grantedAgain = try await client.send(.post, "\(Self.base)/allocate", allocate, headers: Self.key("alloc-1"))
            #expect(granted.status == .created && grantedAgain.status == .created)
            #expect(grantedAgain.string("allocationId") == granted.string("allocationId"))
            #expect(grantedAgain.text == granted.text)
            #expect(grantedAgain.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(granted.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)

            let usage = #"{"tokens":3000,"usage_type":"input"}"#
            let used = try await client.send(.post, "\(Self.base)/allocations/k/usage", usage, headers: Self.key("use-1"))
            let usedAgain = try await client.send(.post, "\(Self.base)/allocations/k/usage", usage, headers: Self.key("use-1"))
            #expect(used.status == .ok && usedAgain.status == .ok)
            #expect(usedAgain.text == used.text)                      // the same record, and the allocation as it was then
            #expect(usedAgain.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await client.send(.post, "\(Self.base)/allocations/k/usage", #"{"tokens":1}"#, headers: Self.key("use-1"))
            #expect(other.status == .conflict && other.code == "idempotency_conflict")
            // The catalog moves behind this instance's back: the first try is stale and gives its key
            // back, the second (priced again) takes it.
            _ = try await harness.scalar("UPDATE catalog_generation SET generation = generation + 1 RETURNING generation::text")
            let second = try await client.send(.post, "\(Self.base)/allocations/k/usage", usage, headers: Self.key("use-2"))
            #expect(second.status == .ok)
            #expect((second.json["allocation"] as? [String: any Sendable])?["tokensUsed"] as? Int == 6000)

            let released = try await client.send(.post, "\(Self.base)/allocations/k/release", headers: Self.key("release-1"))
            #expect(released.status == .ok && released.json["isActive"] as? Bool == false)
            // The context is allocated again; a late retry of the release must not free the new one.
            let next = try await client.send(.post, "\(Self.base)/allocate", allocate, headers: Self.key("alloc-2"))
            #expect(next.status == .created && next.string("allocationId") != granted.string("allocationId"))
            let releasedAgain = try await client.send(.post, "\(Self.base)/allocations/k/release", headers: Self.key("release-1"))
            #expect(releasedAgain.status == .ok && releasedAgain.text == released.text)
            #expect(try await client.send(.get, "\(Self.base)/allocations/k").json["isActive"] as? Bool == true)
            let daily = try await Self.summary(client, tier: "local_midweight")
            #expect(daily["reserved"] as? Int == 5000 && daily["activeAllocations"] as? Int == 1)
            return ()
        }
        let ledger = try await harness.scalar("SELECT count(*)::text || '/' || sum(input_tokens)::text FROM usage_records WHERE metadata->>'apollo_context_id' = 'k'")
        #expect(ledger == "2/6000")
        let policies = try await harness.scalar("SELECT count(*)::text FROM apollo_policies WHERE source = 'api'")
        #expect(policies == "1")
    }

    @Test func setLimitChangesAPolicyAsANewLimitVersion() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let created = try await client.send(.put, "\(Self.base)/limits/my-policy",
                #"{"tier":"local_lightweight","period":"hourly","limit":500,"type":"soft_limit","component":"athena"}"#)
            #expect(created.status == .created)
            #expect(created.string("policyId") == "my-policy" && created.string("budgetPolicy") == "warn")
            let changed = try await client.send(.put, "\(Self.base)/limits/my-policy",
                #"{"tier":"local_lightweight","period":"hourly","limit":700,"type":"hard_limit","component":"athena","warningThreshold":0.9}"#)
            #expect(changed.status == .ok)
            #expect(changed.json["limit"] as? Int == 700 && changed.json["limitVersion"] as? Int == 2 && changed.string("budgetPolicy") == "enforce")
            let same = try await client.send(.put, "\(Self.base)/limits/my-policy",
                #"{"tier":"local_lightweight","period":"hourly","limit":700,"type":"hard_limit","component":"athena","warningThreshold":0.9}"#)
            #expect(same.json["limitVersion"] as? Int == 2)
            let list = try await client.send(.get, "\(Self.base)/limits")
            let policies = (try JSONSerialization.jsonObject(with: Data(list.text.utf8)) as? [[String: any Sendable]]) ?? []
            #expect(policies.count == 10)   // Apollo's nine defaults and this one
        }
    }

    @Test func badInputIsA400AndChangesNothing() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let cases: [(String, String, String?)] = [
                ("allocate", #"{"contextId":"z","priority":11}"#, "priority"),
                ("allocate", #"{"component":"x"}"#, "context_id"),
                ("allocate", #"{"contextId":"z","tokenCount":0}"#, "tokenCount"),
                ("allocate", #"{"contextId":"z","tier":"huge"}"#, "tier"),
                ("allocate", #"[1,2]"#, nil),
            ]
            for (path, body, field) in cases {
                let reply = try await client.send(.post, "\(Self.base)/\(path)", body)
                #expect(reply.status == .badRequest, "\(body)")
                if let field { #expect(reply.field == field, "\(body)") }
            }
            let badLimit = try await client.send(.put, "\(Self.base)/limits", #"{"tier":"local_midweight","period":"daily","limit":-5,"type":"warn"}"#)
            #expect(badLimit.status == .badRequest && badLimit.field == "limit")
            let badPeriod = try await client.send(.get, "\(Self.base)/summary?period=fortnightly")
            #expect(badPeriod.status == .badRequest)
            let noContext = try await client.send(.post, "\(Self.base)/allocations/nobody/usage", #"{"tokens":5}"#)
            #expect(noContext.status == .notFound)
            _ = try await client.send(.post, "\(Self.base)/allocate", #"{"contextId":"ok","component":"x"}"#)
            let badTokens = try await client.send(.post, "\(Self.base)/allocations/ok/usage", #"{"tokens":-3}"#)
            #expect(badTokens.status == .badRequest)
            let badSplit = try await client.send(.post, "\(Self.base)/allocations/ok/usage", #"{"tokens":10,"inputTokens":3,"outputTokens":3}"#)
            #expect(badSplit.status == .badRequest)
            return ()
        }
        let ledger = try await harness.scalar("SELECT count(*)::text FROM usage_records")
        #expect(ledger == "0")
        let allocations = try await harness.scalar("SELECT count(*)::text FROM apollo_allocations")
        #expect(allocations == "1")
    }

    @Test func tierResolutionOfADatedModelID() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let dated = try await client.send(.get, "\(Self.base)/tier?model=claude-3-5-sonnet-20241022&provider=ollama")
            #expect(dated.string("tier") == "remote_heavyweight" && dated.string("resolvedBy") == "model" && dated.string("matched") == "claude-3.5-sonnet")
            let byProvider = try await client.send(.get, "\(Self.base)/tier?model=something-new&provider=local")
            #expect(byProvider.string("tier") == "local_lightweight" && byProvider.string("resolvedBy") == "provider")
        }
    }

    /// Setters of one entry run one at a time: of many concurrent first setters exactly one finds
    /// no entry, and each of the others finds the tier one of them set.
    @Test func concurrentSettersOfANewTierEntryEachSeeThePreviousOne() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let tiers = ["local_lightweight", "local_midweight", "remote_heavyweight"]
            let answers = try await PatientHTTP.withClient(connections: 12) { http in
                try await withThrowingTaskGroup(of: (previous: String?, tier: String).self) { group in
                    for index in 0..<12 {
                        group.addTask {
                            let tier = tiers[index % 3]
                            let reply = try await PatientHTTP.send(http, to: client, .put, "\(Self.base)/tiers/component/hermes", #"{"tier":"\#(tier)"}"#)
                            return (reply.json["previousTier"] as? String, tier)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(answers.count == 12)
            #expect(answers.filter { $0.previous == nil }.count == 1, "\(answers)")
            let final = try #require((try await client.send(.get, "\(Self.base)/tiers").json["componentTiers"] as? [String: any Sendable])?["hermes"] as? String)
            var setButReplaced = answers.map(\.tier)
            setButReplaced.remove(at: try #require(setButReplaced.firstIndex(of: final)))
            #expect(answers.compactMap(\.previous).sorted() == setButReplaced.sorted(), "each tier set was found by the next setter")
        }
    }

    /// Apollo's set_model_tier, set_component_tier and set_provider_tier: an entry set at run time
    /// wins over Apollo's default, holds for allocations, and goes when it is removed.
    @Test func tierTablesSetAtRunTimeOverrideApollosDefaults() async throws {
        let harness = try await APITestHarness.make()
        try await harness.withApp { client in
            let before = try await client.send(.get, "\(Self.base)/tier?model=something-new&component=athena&provider=openai")
            #expect(before.string("tier") == "remote_heavyweight" && before.string("resolvedBy") == "provider")
            let set = try await client.send(.put, "\(Self.base)/tiers/component/athena", #"{"tier":"local_midweight"}"#)
            #expect(set.status == .ok)
            #expect(set.string("kind") == "component" && set.string("name") == "athena" && set.string("tier") == "local_midweight")
            #expect(set.json["previousTier"] is NSNull && set.json["defaultTier"] is NSNull)
            let after = try await client.send(.get, "\(Self.base)/tier?model=something-new&component=athena&provider=openai")
            #expect(after.string("tier") == "local_midweight" && after.string("resolvedBy") == "component")
            let granted = try await client.send(.post, "\(Self.base)/allocate",
                #"{"contextId":"c-athena","component":"athena","provider":"openai","model":"something-new","tokenCount":100}"#)
            #expect(granted.status == .created && granted.string("tier") == "local_midweight")
            #expect(try await Self.summary(client, tier: "local_midweight")["reserved"] as? Int == 100)

            // A model entry is keyed as models are looked up (trimmed, lower case), so it covers dated ids too.
            let model = try await client.send(.put, "\(Self.base)/tiers/model/%20Claude-3-Opus", #"{"tier":"local_lightweight"}"#)
            #expect(model.status == .ok && model.string("name") == "claude-3-opus" && model.string("defaultTier") == "remote_heavyweight")
            let dated = try await client.send(.get, "\(Self.base)/tier?model=claude-3-opus-20240229")
            #expect(dated.string("tier") == "local_lightweight" && dated.string("matched") == "claude-3-opus")
            let changed = try await client.send(.put, "\(Self.base)/tiers/model/claude-3-opus", #"{"tier":"local_midweight"}"#)
            #expect(changed.string("previousTier") == "local_lightweight")

            let tables = try await client.send(.get, "\(Self.base)/tiers")
            #expect((tables.json["componentTiers"] as? [String: any Sendable])?["athena"] as? String == "local_midweight")
            #expect((tables.json["modelTiers"] as? [String: any Sendable])?["claude-3-opus"] as? String == "local_midweight")
            #expect((tables.json["modelTiers"] as? [String: any Sendable])?["gpt-4"] as? String == "remote_heavyweight")
            #expect((tables.json["overrides"] as? [Any])?.count == 2)

            // Removed, the name has Apollo's default again; removed twice, a 404.
            let removed = try await client.send(.delete, "\(Self.base)/tiers/model/claude-3-opus")
            #expect(removed.status == .ok && removed.string("removedTier") == "local_midweight" && removed.string("tier") == "remote_heavyweight")
            #expect(try await client.send(.get, "\(Self.base)/tier?model=claude-3-opus-20240229").string("tier") == "remote_heavyweight")
            #expect(try await client.send(.delete, "\(Self.base)/tiers/model/claude-3-opus").status == .notFound)

            let badTier = try await client.send(.put, "\(Self.base)/tiers/provider/openai", #"{"tier":"huge"}"#)
            #expect(badTier.status == .badRequest && badTier.field == "tier")
            let badKind = try await client.send(.put, "\(Self.base)/tiers/team/openai", #"{"tier":"local_midweight"}"#)
            #expect(badKind.status == .badRequest && badKind.field == "kind")
            let noTier = try await client.send(.put, "\(Self.base)/tiers/provider/openai", #"{}"#)
            #expect(noTier.status == .badRequest && noTier.field == "tier")

            let provider = #"{"tier":"local_midweight"}"#
            let first = try await client.send(.put, "\(Self.base)/tiers/provider/OpenAI", provider, headers: Self.key("tier-1"))
            let retry = try await client.send(.put, "\(Self.base)/tiers/provider/OpenAI", provider, headers: Self.key("tier-1"))
            #expect(first.status == .ok && retry.text == first.text)
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await client.send(.put, "\(Self.base)/tiers/provider/OpenAI", #"{"tier":"local_lightweight"}"#, headers: Self.key("tier-1"))
            #expect(other.status == .conflict && other.code == "idempotency_conflict")
            #expect(try await client.send(.get, "\(Self.base)/tier?provider=openai").string("tier") == "local_midweight")
            return ()
        }
        // In the database, so every instance resolves with them: the component and the provider entry.
        let stored = try await harness.scalar("SELECT string_agg(kind || ':' || name || '=' || tier, ' ' ORDER BY kind) FROM apollo_tiers")
        #expect(stored == "component:athena=local_midweight provider:openai=local_midweight")
    }

    /// Apollo's update_allocation: a top-up is decided like an allocate (a hard limit denies it and
    /// leaves the allocation as it was), an extension moves the expiry, isActive false releases;
    /// the allocation keeps its id throughout.
    @Test func updateTopsUpExtendsAndReleasesTheContextsAllocation() async throws {
        let harness = try await APITestHarness.make()
        @Sendable func reserved() async throws -> String? {
            try await harness.scalar("SELECT lw.reserved::text FROM limit_windows lw JOIN apollo_policies p ON p.limit_id = lw.limit_id WHERE p.policy_id = 'zeta-cap'")
        }
        try await harness.withApp { client in
            let cap = try await client.send(.put, "\(Self.base)/limits/zeta-cap",
                #"{"tier":"local_lightweight","period":"daily","limit":3000,"type":"hard_limit","component":"zeta"}"#)
            #expect(cap.status == .created)
            let granted = try await client.send(.post, "\(Self.base)/allocate",
                #"{"contextId":"up","component":"zeta","model":"codellama","tokenCount":1000}"#)
            #expect(granted.status == .created && granted.string("tier") == "local_lightweight")
            let id = try #require(granted.string("allocationId"))

            let topped = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"additionalTokens":1500}"#)
            #expect(topped.status == .ok)
            #expect(topped.string("allocationId") == id && topped.json["tokensAllocated"] as? Int == 2500 && topped.json["remainingTokens"] as? Int == 2500)
            #expect(try await reserved() == "2500")

            // 2500 reserved + 1000 would pass the hard limit of 3000: denied, nothing changes.
            let denied = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"additional_tokens":1000}"#)
            #expect(denied.status == .tooManyRequests && denied.code == "budget_exceeded")
            #expect((denied.json["error"] as? [String: any Sendable])?["policyId"] as? String == "zeta-cap")
            #expect(try await client.send(.get, "\(Self.base)/allocations/up").json["tokensAllocated"] as? Int == 2500)
            #expect(try await reserved() == "2500")

            // Used tokens leave the reservation; what is left of the cap can be topped up.
            _ = try await client.send(.post, "\(Self.base)/allocations/up/usage", #"{"tokens":2000,"usageType":"output"}"#)
            #expect(try await reserved() == "500")
            let more = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"additionalTokens":500}"#)
            #expect(more.status == .ok && more.json["tokensAllocated"] as? Int == 3000 && more.json["tokensUsed"] as? Int == 2000)
            #expect(try await reserved() == "1000")

            @Sendable func expiry() async throws -> Int? {
                try await harness.scalar("SELECT extract(epoch FROM expires_at)::bigint::text FROM allocations WHERE id = \(id)::uuid").flatMap { Int($0) }
            }
            let before = try await expiry() ?? 0
            let extended = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"extendExpiration":3600}"#)
            #expect(extended.status == .ok && extended.string("allocationId") == id)
            #expect(try await expiry() == before + 3600)

            let cases: [(String, String?)] = [
                (#"{}"#, nil), (#"{"additionalTokens":0}"#, "additionalTokens"), (#"{"extendExpiration":-5}"#, "extendExpiration"),
                (#"{"extendExpiration":60,"expirationTime":"2030-01-01T00:00:00Z"}"#, "expiration_time"),
                (#"{"expirationTime":"2020-01-01T00:00:00Z"}"#, "expiration_time"), (#"{"isActive":"no"}"#, "isActive"),
                (#"{"isActive":false,"additionalTokens":5}"#, "is_active"),
            ]
            for (body, field) in cases {
                let reply = try await client.send(.post, "\(Self.base)/allocations/up/update", body)
                #expect(reply.status == .badRequest, "\(body)")
                if let field { #expect(reply.field == field, "\(body)") }
            }
            #expect(try await expiry() == before + 3600)
            #expect(try await client.send(.post, "\(Self.base)/allocations/nobody/update", #"{"additionalTokens":5}"#).status == .notFound)

            let small = #"{"additionalTokens":10}"#
            let once = try await client.send(.post, "\(Self.base)/allocations/up/update", small, headers: Self.key("up-1"))
            let again = try await client.send(.post, "\(Self.base)/allocations/up/update", small, headers: Self.key("up-1"))
            #expect(once.status == .tooManyRequests)   // 2000 spent + 1000 reserved + 10 > 3000
            #expect(again.text == once.text && again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let other = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"additionalTokens":11}"#, headers: Self.key("up-1"))
            #expect(other.status == .conflict && other.code == "idempotency_conflict")

            let still = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"isActive":true}"#)
            #expect(still.status == .ok && still.string("allocationId") == id)
            let released = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"isActive":false}"#)
            #expect(released.status == .ok && released.json["isActive"] as? Bool == false)
            #expect(try await reserved() == "0")
            let late = try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"additionalTokens":5}"#)
            #expect(late.status == .conflict)
            #expect(try await client.send(.post, "\(Self.base)/allocations/up/update", #"{"isActive":true}"#).status == .conflict)
            return ()
        }
        // Each granted top-up stays on record as its own (released) allocation; the denied ones as denied.
        let topUps = try await harness.scalar("""
            SELECT string_agg(status || ':' || reserved_tokens, ' ' ORDER BY created_at) FROM allocations WHERE metadata ? 'apollo_top_up'
            """)
        #expect(topUps == "released:1500 denied:1000 released:500 denied:10")
    }
}
