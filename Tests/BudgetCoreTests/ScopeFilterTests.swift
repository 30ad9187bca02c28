import BudgetCore
import Testing

@Suite("A scope filter counts a call when every attribute it names equals the call's: provider and model ignoring case and surrounding whitespace, the other attributes after trimming only; an attribute it leaves out matches anything")
struct ScopeFilterTests {

    @Suite("Provider and model match case-insensitively after trimming")
    struct ProviderAndModel {
        @Test func paddedMixedCaseProviderMatchesLowerCaseFilter() {
            #expect(ScopeFilter(provider: "anthropic").matches(Scope(provider: " Anthropic ")))
        }

        @Test func filterProviderIsStoredAsItsKey() {
            let filter = ScopeFilter(provider: "  OpenAI\t", model: " GPT-4o ")
            #expect(filter.provider == "openai")
            #expect(filter.model == "gpt-4o")
            #expect(filter.matches(Scope(provider: "openai", model: "gpt-4o")))
            #expect(filter.matches(Scope(provider: "OPENAI", model: "Gpt-4O\n")))
        }

        @Test func modelMatchesCaseInsensitively() {
            let filter = ScopeFilter(model: "claude-sonnet-4")
            #expect(filter.matches(Scope(model: "Claude-Sonnet-4")))
            #expect(!filter.matches(Scope(model: "claude-sonnet-4.5")))
        }

        @Test func differentProviderDoesNotMatch() {
            #expect(!ScopeFilter(provider: "anthropic").matches(Scope(provider: "openai")))
        }

        @Test func callWithoutTheNamedAttributeDoesNotMatch() {
            #expect(!ScopeFilter(provider: "anthropic").matches(Scope()))
            #expect(!ScopeFilter(provider: "anthropic").matches(Scope(provider: "   ")))
            #expect(!ScopeFilter(model: "m").matches(Scope(provider: "anthropic")))
        }

        @Test func blankFilterValuesMeanAny() {
            let filter = ScopeFilter(component: " ", provider: "", model: "\t", taskType: "", tier: "  ", tag: "")
            #expect(filter == ScopeFilter())
            #expect(filter.matches(Scope(provider: "openai", model: "gpt-4o", tags: ["x"])))
        }
    }

    @Suite("Component, task type, tier and tag are trimmed but compared case-sensitively")
    struct OtherAttributes {
        @Test func componentMatchesAfterTrimming() {
            let filter = ScopeFilter(component: " ingest ")
            #expect(filter.component == "ingest")
            #expect(filter.matches(Scope(component: "ingest\n")))
            #expect(!filter.matches(Scope(component: "Ingest")))
            #expect(!filter.matches(Scope(component: "ingestion")))
            #expect(!filter.matches(Scope()))
        }

        @Test func taskTypeMatchesAfterTrimming() {
            let filter = ScopeFilter(taskType: "summarise")
            #expect(filter.matches(Scope(taskType: " summarise ")))
            #expect(!filter.matches(Scope(taskType: "Summarise")))
            #expect(!filter.matches(Scope()))
        }

        @Test func tierMatchesAfterTrimming() {
            let filter = ScopeFilter(tier: "free")
            #expect(filter.matches(Scope(tier: "free ")))
            #expect(!filter.matches(Scope(tier: "FREE")))
            #expect(!filter.matches(Scope(tier: "pro")))
        }

        @Test func everyNamedAttributeMustMatch() {
            let filter = ScopeFilter(component: "ingest", provider: "anthropic", model: "claude", taskType: "summarise", tier: "free", tag: "batch")
            let call = Scope(component: "ingest", provider: "Anthropic", model: "Claude", taskType: "summarise", tier: "free", tags: ["batch", "eu"])
            #expect(filter.matches(call))
            var wrongTier = call
            wrongTier.tier = "pro"
            #expect(!filter.matches(wrongTier))
            var wrongComponent = call
            wrongComponent.component = "serve"
            #expect(!filter.matches(wrongComponent))
        }
    }

    @Suite("Nil filter attributes match anything")
    struct NilAttributes {
        @Test func emptyFilterMatchesEveryCall() {
            #expect(ScopeFilter().matches(Scope()))
            #expect(ScopeFilter().matches(Scope(component: "c", provider: "p", model: "m", taskType: "t", tier: "x", tags: ["a"], sessionID: "s", taskID: "k")))
        }

        @Test func providerOnlyFilterMatchesAnyModelAndTags() {
            let filter = ScopeFilter(provider: "anthropic")
            #expect(filter.matches(Scope(provider: "anthropic", model: "a")))
            #expect(filter.matches(Scope(provider: "anthropic", model: nil, tags: ["z"])))
        }
    }

    @Suite("A tag filter matches a call carrying that tag among its tags")
    struct Tags {
        @Test func tagAmongTheCallsTagsMatches() {
            let filter = ScopeFilter(tag: "batch")
            #expect(filter.matches(Scope(tags: ["eu", "batch"])))
            #expect(filter.matches(Scope(tags: [" batch "])))
        }

        @Test func missingTagDoesNotMatch() {
            let filter = ScopeFilter(tag: "batch")
            #expect(!filter.matches(Scope(tags: [])))
            #expect(!filter.matches(Scope(tags: ["eu", "Batch", "batched"])))
        }

        @Test func filterTagIsTrimmed() {
            #expect(ScopeFilter(tag: " batch\n").tag == "batch")
            #expect(ScopeFilter(tag: " batch\n").matches(Scope(tags: ["batch"])))
        }
    }

    @Suite("isCompatible(with:) treats an attribute a status query leaves out as matching anything, and one it names like matches")
    struct Compatibility {
        let filter = ScopeFilter(component: "ingest", provider: "anthropic", model: "claude", taskType: "summarise", tier: "free", tag: "batch")

        @Test func emptyQueryIsCompatibleWithEveryFilter() {
            #expect(filter.isCompatible(with: Scope()))
            #expect(ScopeFilter().isCompatible(with: Scope()))
        }

        @Test func queryNamingOnlyMatchingAttributesIsCompatible() {
            #expect(filter.isCompatible(with: Scope(provider: " ANTHROPIC ")))
            #expect(filter.isCompatible(with: Scope(provider: "anthropic", model: "Claude")))
            #expect(filter.isCompatible(with: Scope(component: " ingest", tags: ["eu", "batch"])))
        }

        @Test func queryNamingADifferentValueIsNotCompatible() {
            #expect(!filter.isCompatible(with: Scope(provider: "openai")))
            #expect(!filter.isCompatible(with: Scope(model: "gpt-4o")))
            #expect(!filter.isCompatible(with: Scope(component: "serve")))
            #expect(!filter.isCompatible(with: Scope(taskType: "classify")))
            #expect(!filter.isCompatible(with: Scope(tier: "pro")))
            #expect(!filter.isCompatible(with: Scope(tags: ["eu"])))
        }

        @Test func blankQueryProviderMeansNotAsked() {
            #expect(filter.isCompatible(with: Scope(provider: "  ", model: "")))
        }

        @Test func filterWithoutAttributesIsCompatibleWithAnyQuery() {
            #expect(ScopeFilter().isCompatible(with: Scope(component: "x", provider: "y", model: "z", taskType: "t", tier: "u", tags: ["v"])))
        }

        @Test func compatibleIsLooserThanMatches() {
            // The filter names a provider the query leaves out: compatible, but not a match.
            let query = Scope(model: "claude")
            let providerAndModel = ScopeFilter(provider: "anthropic", model: "claude")
            #expect(providerAndModel.isCompatible(with: query))
            #expect(!providerAndModel.matches(query))
        }
    }
}
