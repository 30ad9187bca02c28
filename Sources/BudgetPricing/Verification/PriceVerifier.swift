// Weighted, lineage-aware cross-source verification of one model's prices.
import BudgetCore
import Foundation

/// Decides, per price field, whether the sources' values may replace the current price.
///
/// For each field:
/// 1. Collect each source's value (zero counts as unstated unless the policy says otherwise).
/// 2. Sources of one lineage (tokencost → LiteLLM) count once: the lineage is represented by
///    its highest-weight member that states the field, with that member's weight.
/// 3. Values within `tolerance` of each other agree. Every value is tried as a group centre; the
///    group with the most weight (then most sources, then the strongest single source) is the
///    candidate. It is accepted when it has at least `minSources` independent sources and at
///    least `minWeightShare` of the weight of all independent sources that state the field
///    (sources that cannot express a field abstain rather than disagree, CROSSCHECK §4).
///    For moving aliases it must also contain every source (`aliasesRequireUnanimity`).
/// 4. Accepted and within tolerance of the current price → `.unchanged` (the current value is
///    kept, so tiny disagreements never churn versions). Accepted otherwise → `.changed` with
///    the value of the group's highest-weight source (ties by source name), cleaned of float
///    noise. One independent source only → `.singleSource`, or `.rejectedSuspicious` if it moves
///    the current price by more than `maxSingleSourceChange`. Otherwise `.conflict`, and the
///    current price stays.
///
/// A source reporting one model 10× cheaper therefore never wins: among several sources it is
/// outvoted or forces a conflict; alone it exceeds `maxSingleSourceChange`.
public struct PriceVerifier: Sendable {
    public var policy: VerificationPolicy
    private let profiles: [String: SourceProfile]
    private let roots: [String: String]

    public init(sources: [SourceProfile] = SourceProfile.defaults, policy: VerificationPolicy = VerificationPolicy()) throws(VerificationError) {
        var profiles: [String: SourceProfile] = [:]
        for source in sources {
            guard profiles[source.name] == nil else { throw .invalidProfiles("duplicate source \(source.name)") }
            guard source.weight > 0 else { throw .invalidProfiles("weight of \(source.name) must be positive") }
            profiles[source.name] = source
        }
        var roots: [String: String] = [:]
        for name in profiles.keys {
            var current = name
            var seen: Set<String> = [name]
            while let parent = profiles[current]?.lineage, parent != current {
                guard seen.insert(parent).inserted else { throw .invalidProfiles("lineage cycle through \(name)") }
                current = parent
                if profiles[parent] == nil { break }  // a root that is not configured itself
            }
            roots[name] = current
        }
        self.profiles = profiles
        self.roots = roots
        self.policy = policy
    }

    /// The lineage root of a source (itself when it copies no one).
    public func lineageRoot(of source: String) -> String? { roots[source] }

    /// Verifies one model: `observations` must all share one canonical key, at most one per source.
    public func verify(_ observations: [PriceObservation], current: PriceSet? = nil) throws(VerificationError) -> VerificationResult {
        let keys = Set(observations.map(\.key))
        guard keys.count <= 1 else { throw .mixedKeys(keys.sorted()) }
        var seen: Set<String> = []
        for observation in observations {
            guard profiles[observation.source] != nil else { throw .unknownSource(observation.source) }
            guard seen.insert(observation.source).inserted else { throw .duplicateSource(observation.source) }
        }
        let key = keys.first ?? CanonicalModelKey(provider: "", model: "")
        let kind = observations.first?.canonical.kind ?? .undated
        let unanimity = policy.aliasesRequireUnanimity && { if case .alias = kind { true } else { false } }()

        var outcomes: [PriceField: PriceOutcome] = [:]
        var accepted = current ?? PriceSet()
        for field in PriceField.allCases {
            var currentValue = current?[field]
            if policy.zeroMeansMissing, currentValue?.isZero == true { currentValue = nil }
            let outcome = decide(field: field, observations: observations, current: currentValue, unanimity: unanimity)
            outcomes[field] = outcome
            accepted[field] = outcome.resolved(current: current?[field])
        }
        accepted.contextTiers = contextTiers(observations: observations, accepted: accepted, current: current)
        accepted.timesOfDay = timesOfDay(observations: observations, accepted: accepted, current: current)
        return VerificationResult(key: key, kind: kind, outcomes: outcomes, status: Self.status(of: outcomes), accepted: accepted)
    }

    /// Verifies every model in a batch of observations (from several sources), grouped by key.
    public func verifyAll(_ observations: [PriceObservation],
                          current: [CanonicalModelKey: PriceSet] = [:]) throws(VerificationError) -> [CanonicalModelKey: VerificationResult] {
        var results: [CanonicalModelKey: VerificationResult] = [:]
        for (key, group) in Dictionary(grouping: observations, by: \.key) {
            results[key] = try verify(group, current: current[key])
        }
        return results
    }

    // MARK: - Per field

    func decide(field: PriceField, observations: [PriceObservation], current: Decimal?, unanimity: Bool) -> PriceOutcome {
        // One representative per lineage: its highest-weight member stating the field.
        var representatives: [String: SourceValue] = [:]
        for observation in observations {
            guard let value = observation.prices[field], !(policy.zeroMeansMissing && value.isZero),
                  let profile = profiles[observation.source], let root = roots[observation.source] else { continue }
            let candidate = SourceValue(source: observation.source, value: value, weight: profile.weight)
            if let existing = representatives[root], Self.stronger(existing, than: candidate) { continue }
            representatives[root] = candidate
        }
        let values = representatives.values.sorted { ($0.value, $0.source) < ($1.value, $1.source) }
        guard !values.isEmpty else { return .noData }

        if values.count == 1, policy.minSources > 1 {
            let lone = SourceValue(source: values[0].source, value: values[0].value.cleanedPrice(), weight: values[0].weight)
            if let current, current > 0, abs(lone.value - current) > policy.maxSingleSourceChange * current {
                return .rejectedSuspicious(lone, current: current)
            }
            return .singleSource(lone)
        }

        let totalWeight = values.reduce(Decimal.zero) { $0 + $1.weight }
        var best: [SourceValue] = []
        var bestWeight = Decimal.zero
        for centre in values {
            let group = values.filter { agree($0.value, centre.value) }
            let weight = group.reduce(Decimal.zero) { $0 + $1.weight }
            let strongest = group.map(\.weight).max() ?? 0
            let bestStrongest = best.map(\.weight).max() ?? 0
            if best.isEmpty || weight > bestWeight || (weight == bestWeight && group.count > best.count)
                || (weight == bestWeight && group.count == best.count && strongest > bestStrongest) {
                best = group
                bestWeight = weight
            }
        }
        let quorum = best.count >= policy.minSources && bestWeight >= policy.minWeightShare * totalWeight
            && (!unanimity || best.count == values.count)
        guard quorum else { return .conflict(values) }

        let provenance = best.sorted { Self.stronger($0, than: $1) }
        let chosen = provenance[0].value.cleanedPrice()
        if let current, agree(chosen, current) { return .unchanged(current) }
        return .changed(chosen, provenance: provenance)
    }

    /// Relative agreement: |a − b| ≤ tolerance × max(|a|, |b|). Exact Decimal arithmetic.
    public func agree(_ a: Decimal, _ b: Decimal) -> Bool {
        abs(a - b) <= policy.tolerance * max(abs(a), abs(b))
    }

    /// Higher weight first, then source name, for deterministic choices.
    static func stronger(_ a: SourceValue, than b: SourceValue) -> Bool {
        a.weight != b.weight ? a.weight > b.weight : a.source < b.source
    }

    static func status(of outcomes: [PriceField: PriceOutcome]) -> ModelPriceStatus {
        var single = false, accepted = false
        for outcome in outcomes.values {
            switch outcome {
            case .conflict, .rejectedSuspicious: return .conflict
            case .singleSource: single = true
            case .changed, .unchanged: accepted = true
            case .noData: break
            }
        }
        return single ? .singleSource : (accepted ? .verified : .noData)
    }

    /// Context tiers are not cross-verified (sources disagree on thresholds, e.g. Portkey's
    /// `-gt-128k` for Google's 200k). They ride with the base price: the current tiers when the
    /// base did not change, otherwise those of the highest-weight source whose input and output
    /// equal the accepted ones.
    func contextTiers(observations: [PriceObservation], accepted: PriceSet, current: PriceSet?) -> [ContextTierPrice] {
        if let current, !current.contextTiers.isEmpty, current.input == accepted.input, current.output == accepted.output {
            return current.contextTiers
        }
        return bestStating(\.contextTiers, observations: observations, accepted: accepted)?.prices.contextTiers ?? current?.contextTiers ?? []
    }

    /// Prices for hours of the day are stated by one source (genai-prices, for DeepSeek's
    /// off-peak rates) and ride with the base price as tiers do, newest first: those of the
    /// highest-weight source that states them with the accepted input and output; else the
    /// current ones while the base is unchanged (the source may be down this time); else none, so
    /// that a discount is never applied to a base price it was not stated with.
    func timesOfDay(observations: [PriceObservation], accepted: PriceSet, current: PriceSet?) -> [TimeOfDayPrice] {
        if let best = bestStating(\.timesOfDay, observations: observations, accepted: accepted) { return best.prices.timesOfDay }
        if let current, current.input == accepted.input, current.output == accepted.output { return current.timesOfDay }
        return []
    }

    /// The highest-weight observation (ties by source name) that states `extra` with the accepted
    /// input and output prices.
    func bestStating<Extra>(_ extra: KeyPath<PriceSet, [Extra]>, observations: [PriceObservation], accepted: PriceSet) -> PriceObservation? {
        func matches(_ stated: Decimal?, _ wanted: Decimal?) -> Bool {
            guard let stated, let wanted else { return false }
            return agree(stated, wanted)
        }
        return observations
            .filter { !$0.prices[keyPath: extra].isEmpty && matches($0.prices.input, accepted.input) && matches($0.prices.output, accepted.output) }
            .max { (profiles[$0.source]?.weight ?? 0, $1.source) < (profiles[$1.source]?.weight ?? 0, $0.source) }
    }
}
