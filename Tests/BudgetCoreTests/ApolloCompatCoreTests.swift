import BudgetCore
import Foundation
import Testing

@Suite("Apollo compatibility: tiers, defaults, mapping, policy parsing")
struct ApolloCompatCoreTests {
    let resolver = ApolloTierResolver()

    static let datedModels: [(String, ApolloTier, String)] = [
        ("claude-3-opus-20240229", .remoteHeavyweight, "claude-3-opus"),
        ("claude-3-5-sonnet-20241022", .remoteHeavyweight, "claude-3.5-sonnet"),
        ("claude-3-7-sonnet-latest", .remoteHeavyweight, "claude-3.7-sonnet"),
        ("Claude-3-Haiku-20240307", .localMidweight, "claude-3-haiku"),
        ("codellama:13b", .localLightweight, "codellama"),
        ("anthropic/claude-3-opus", .remoteHeavyweight, "claude-3-opus"),
        ("claude-3-opus@20240229", .remoteHeavyweight, "claude-3-opus"),
        ("gpt-4", .remoteHeavyweight, "gpt-4"),
        ("mistral", .localMidweight, "mistral"),
    ]

    @Test(arguments: datedModels)
    func modelNamesResolveLikeTheirBaseName(model: String, tier: ApolloTier, matched: String) {
        // The provider would say otherwise: the model must win.
        let resolution = resolver.resolve(model: model, component: nil, provider: "local")
        #expect(resolution.tier == tier)
        #expect(resolution.source == .model)
        #expect(resolution.matched == matched)
    }

    @Test func componentComesBeforeProviderAndHeavyweightIsTheDefault() {
        let withComponent = ApolloTierResolver(componentTiers: ["athena": .localLightweight])
        let byComponent = withComponent.resolve(model: "unknown-model", component: "athena", provider: "anthropic")
        #expect(byComponent.tier == .localLightweight && byComponent.source == .component)
        let byProvider = resolver.resolve(model: "unknown-model", component: "athena", provider: " Ollama ")
        #expect(byProvider.tier == .localMidweight && byProvider.source == .provider)
        let fallback = resolver.resolve(model: nil, component: nil, provider: "someone")
        #expect(fallback.tier == .remoteHeavyweight && fallback.source == .default)
    }

    @Test func snapshotNumbersThatAreNotDatesAreKept() {
        #expect(ApolloTierResolver.modelCandidates("gpt-4-0613").contains("gpt-4") == false)
        #expect(ApolloTierResolver.modelCandidates("llama-3-8b") == ["llama-3-8b"])
        #expect(ApolloTierResolver.modelCandidates("claude-3-opus-2024-02-29").contains("claude-3-opus"))
    }

    @Test func defaultAllocationSizesFollowApollosTable() {
        #expect(ApolloDefaults.allocationSize(taskType: "coding", priority: .critical) == 32000)
        #expect(ApolloDefaults.allocationSize(taskType: "chat", priority: .low) == 2000)
        #expect(ApolloDefaults.allocationSize(taskType: "analysis", priority: .high) == 16000)
        #expect(ApolloDefaults.allocationSize(taskType: "default", priority: .normal) == 2000)
        // An unnamed priority takes the type's NORMAL; an unknown type takes default/NORMAL.
        #expect(ApolloDefaults.allocationSize(taskType: "coding", priority: ApolloPriority(7)!) == 8000)
        #expect(ApolloDefaults.allocationSize(taskType: "poetry", priority: .critical) == 2000)
    }

    @Test func defaultLimitsAreNineWarnCells() {
        #expect(ApolloDefaults.limits.count == 9)
        let heavy = ApolloDefaults.limits.filter { $0.tier == .remoteHeavyweight }
        #expect(heavy.map(\.limit).sorted() == [32_000, 100_000, 1_000_000])
        #expect(Set(ApolloDefaults.limits.map(\.policyID)).count == 9)
    }

    @Test func policyTypesAndPrioritiesMapOntoBudgetsWords() {
        #expect(ApolloPolicyType.ignore.policy == .ignore)
        #expect(ApolloPolicyType.warn.policy == .warn)
        #expect(ApolloPolicyType.softLimit.policy == .warn)
        #expect(ApolloPolicyType.hardLimit.policy == .enforce)
        #expect(ApolloPriority.low.priority == .low)
        #expect(ApolloPriority.normal.priority == .normal)
        #expect(ApolloPriority.high.priority == .high)
        #expect(ApolloPriority.critical.priority == .critical)
        #expect(ApolloPriority(9)?.priority == .high)      // only 10 bypasses, as in Apollo
        #expect(ApolloPriority(0) == nil)
        #expect(ApolloPriority(11) == nil)
        #expect(ApolloPeriod.perSession.period == .perSession)
    }

    @Test func parsesApollosFileShapeAndTheAPIsCamelCase() throws {
        let snake: [String: JSONValue] = [
            "policy_id": .string("p1"), "type": .string("hard_limit"), "period": .string("daily"), "tier": .string("remote_heavyweight"),
            "component": .string("ergon"), "task_type": .null, "limit": .number("5000"), "warning_threshold": .number("0.7"),
            "action_threshold": .number("0.95"), "start_date": .string("2025-06-20T10:11:12.123456"), "end_date": .null,
            "enabled": .bool(true), "metadata": .object(["owner": .string("casey")]),
        ]
        let policy = try ApolloPolicy.parse(snake)
        #expect(policy.policyID == "p1" && policy.type == .hardLimit && policy.period == .daily && policy.tier == .remoteHeavyweight)
        #expect(policy.component == "ergon" && policy.taskType == nil && policy.limit == 5000)
        #expect(policy.warningThreshold == Decimal(string: "0.7"))
        let start = try #require(policy.startDate)   // naive isoformat() is read as UTC
        #expect(abs(start.timeIntervalSince(ISO.instant("2025-06-20T10:11:12Z")) - 0.123456) < 0.000_01)
        #expect(policy.filter == ScopeFilter(component: "ergon", tier: "remote_heavyweight"))
        #expect(policy.budgetPolicy(at: Date()) == .enforce)

        let camel: [String: JSONValue] = ["policyId": .string("p2"), "type": .string("BudgetPolicyType.SOFT_LIMIT"), "period": .string("per_session"),
                                          "tier": .string("local_midweight"), "taskType": .string("chat"), "limit": .number("100"),
                                          "enabled": .bool(false)]
        let second = try ApolloPolicy.parse(camel)
        #expect(second.type == .softLimit && second.taskType == "chat" && second.period == .perSession)
        #expect(second.budgetPolicy(at: Date()) == .ignore)   // disabled: tracked only
    }

    @Test func refusesWhatCannotBeALimit() {
        let base: [String: JSONValue] = ["policy_id": .string("p"), "type": .string("warn"), "period": .string("daily"),
                                         "tier": .string("local_midweight"), "limit": .number("10")]
        func field(_ changes: [String: JSONValue]) -> String? {
            do { _ = try ApolloPolicy.parse(base.merging(changes) { $1 }); return nil } catch { return error.field }
        }
        #expect(field([:]) == nil)
        #expect(field(["tier": .string("huge")]) == "tier")
        #expect(field(["limit": .number("-1")]) == "limit")
        #expect(field(["limit": .number("1.5")]) == "limit")
        #expect(field(["warning_threshold": .number("0")]) == "warning_threshold")
        #expect(field(["type": .string("maybe")]) == "type")
        #expect(field(["start_date": .string("yesterday")]) == "start_date")
        var noID = base
        noID["policy_id"] = nil
        #expect((try? ApolloPolicy.parse(noID)) == nil)
        #expect((try? ApolloPolicy.parse(noID, newID: { "fresh" }))?.policyID == "fresh")
    }

    @Test func entriesSetAtRunTimeAreKeyedAsTheyAreLookedUpAndWinOverTheDefaults() {
        #expect(ApolloTierOverride.key("  GPT-4o ", kind: .model) == "gpt-4o")
        #expect(ApolloTierOverride.key("OpenAI", kind: .provider) == "openai")
        #expect(ApolloTierOverride.key("Athena", kind: .component) == "Athena")   // components match exactly, as in Apollo
        #expect(ApolloTierOverride.key("   ", kind: .model) == nil)
        #expect(ApolloTierOverride.key(String(repeating: "x", count: 501), kind: .component) == nil)
        let now = Date()
        let resolver = ApolloTierResolver(overrides: [
            ApolloTierOverride(kind: .model, name: "claude-3-opus", tier: .localMidweight, updatedAt: now),
            ApolloTierOverride(kind: .component, name: "athena", tier: .localLightweight, updatedAt: now),
            ApolloTierOverride(kind: .provider, name: "ollama", tier: .remoteHeavyweight, updatedAt: now),
        ])
        #expect(resolver.resolve(model: "claude-3-opus-20240229", component: nil, provider: nil).tier == .localMidweight)
        #expect(resolver.resolve(model: "new-model", component: "athena", provider: "openai").tier == .localLightweight)
        #expect(resolver.resolve(model: "new-model", component: "Athena", provider: "ollama").tier == .remoteHeavyweight)
        #expect(resolver.resolve(model: "gpt-4", component: nil, provider: nil).tier == .remoteHeavyweight)   // defaults stay
        #expect(ApolloTierResolver.defaultTier(kind: .model, name: "qwen") == .localMidweight)
        #expect(ApolloTierResolver.defaultTier(kind: .component, name: "athena") == nil)
    }
}
