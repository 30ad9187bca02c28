// Collects one document's observations, resolving entries that normalise to the same key.
import Foundation

/// Keeps at most one observation per canonical key when a source lists a model twice
/// (LiteLLM `deepseek-chat` and `deepseek/deepseek-chat`, Portkey `GPT-4o` and `gpt-4o`):
///
/// 1. An entry keyed under its own provider beats one that reached the key from another
///    provider (OpenRouter pass-through, an alias row): the vendor's own entry is authoritative.
/// 2. Otherwise the entries are combined field by field. A price stated by one entry only (zero
///    counts as unstated, CROSSCHECK §5) is kept; a price both state equally is kept; a price
///    they state differently is dropped — the source contradicts itself there and abstains.
///    When neither input nor output survives, the source abstains on the model altogether.
///    The kept observation's `rawEntry` is a JSON array of both entries when both contributed.
struct ObservationCollector {
    private var order: [CanonicalModelKey] = []
    private var byKey: [CanonicalModelKey: PriceObservation] = [:]
    /// Keys a source contradicted itself on, with the fields in question.
    private var contradicted: [CanonicalModelKey: (raw: String, fields: Set<PriceField>)] = [:]
    private(set) var skipped: [SkippedEntry] = []

    mutating func skip(_ key: String, _ reason: SkippedEntry.Reason) {
        skipped.append(SkippedEntry(key: key, reason: reason))
    }

    mutating func add(_ incoming: PriceObservation) {
        let key = incoming.key
        var observation = incoming
        // A reasoning price equal to the output price is not a distinct price (Langfuse and
        // OpenRouter restate the output price); `PriceSet.reasoning` is nil in that case.
        if observation.prices.reasoning != nil, observation.prices.reasoning == observation.prices.output {
            observation.prices.reasoning = nil
        }
        if let earlier = contradicted[key] {
            // A third spelling: it cannot settle fields the source already contradicted itself on.
            for field in earlier.fields { observation.prices[field] = nil }
        }
        guard let existing = byKey[key] else {
            if let earlier = contradicted[key] {
                let fields = PriceField.allCases.filter { earlier.fields.contains($0) }
                skip(incoming.rawModel, .conflictingDuplicate(with: earlier.raw, fields: fields))
                return
            }
            order.append(key)
            byKey[key] = observation
            return
        }
        let conflicts = Self.conflictingFields(existing.prices, observation.prices)
        let existingIndirect = Self.isIndirect(existing), newIndirect = Self.isIndirect(observation)
        if existingIndirect != newIndirect {
            let (winner, loser) = newIndirect ? (existing, observation) : (observation, existing)
            byKey[key] = winner
            skip(loser.rawModel, conflicts.isEmpty ? .duplicate(of: winner.rawModel)
                                                   : .conflictingDuplicate(with: winner.rawModel, fields: conflicts))
            return
        }
        if conflicts.isEmpty {
            let existingFields = Self.statedFields(existing.prices), newFields = Self.statedFields(observation.prices)
            if newFields.isSuperset(of: existingFields), newFields != existingFields {
                byKey[key] = observation
                skip(existing.rawModel, .duplicate(of: observation.rawModel))
                return
            }
            if existingFields.isSuperset(of: newFields) {
                skip(observation.rawModel, .duplicate(of: existing.rawModel))
                return
            }
        }
        var merged = existing
        for field in PriceField.allCases {
            if conflicts.contains(field) {
                merged.prices[field] = nil
            } else if !Self.states(merged.prices, field), Self.states(observation.prices, field) {
                merged.prices[field] = observation.prices[field]
            }
        }
        let baseConflicts = conflicts.contains(.input) || conflicts.contains(.output)
        merged.prices.contextTiers = Self.ridingWithTheBase(existing.prices.contextTiers, observation.prices.contextTiers, baseConflicts: baseConflicts)
        merged.prices.timesOfDay = Self.ridingWithTheBase(existing.prices.timesOfDay, observation.prices.timesOfDay, baseConflicts: baseConflicts)
        merged.rawEntry = "[" + existing.rawEntry + "," + observation.rawEntry + "]"
        if conflicts.isEmpty {
            byKey[key] = merged
            skip(observation.rawModel, .duplicate(of: existing.rawModel))
            return
        }
        contradicted[key] = (existing.rawModel, Set(conflicts))
        skip(observation.rawModel, .conflictingDuplicate(with: existing.rawModel, fields: conflicts))
        if merged.prices.input == nil, merged.prices.output == nil {
            byKey[key] = nil
            skip(existing.rawModel, .conflictingDuplicate(with: observation.rawModel, fields: conflicts))
        } else {
            byKey[key] = merged
        }
    }

    func result() -> ParseResult {
        ParseResult(observations: order.compactMap { byKey[$0] }, skipped: skipped)
    }

    /// The key's provider differs from the provider the source filed the entry under.
    static func isIndirect(_ observation: PriceObservation) -> Bool {
        guard let raw = observation.rawProvider else { return false }
        return ProviderNames.canonical(raw) != observation.key.provider
    }

    /// Prices that ride with the base (long-context tiers, hours of the day) of two entries for one
    /// model: none when the entries disagree on them or on the base, else those either states.
    static func ridingWithTheBase<Extra: Equatable>(_ existing: [Extra], _ other: [Extra], baseConflicts: Bool) -> [Extra] {
        if baseConflicts || (!existing.isEmpty && !other.isEmpty && existing != other) { return [] }
        return existing.isEmpty ? other : existing
    }

    static func states(_ prices: PriceSet, _ field: PriceField) -> Bool {
        guard let value = prices[field] else { return false }
        return !value.isZero
    }

    static func statedFields(_ prices: PriceSet) -> Set<String> {
        var fields = Set(PriceField.allCases.filter { states(prices, $0) }.map(\.rawValue))
        if !prices.contextTiers.isEmpty { fields.insert("context_tiers") }
        if !prices.timesOfDay.isEmpty { fields.insert("times_of_day") }
        return fields
    }

    /// Fields both price sets state (non-zero) with different values.
    static func conflictingFields(_ a: PriceSet, _ b: PriceSet) -> [PriceField] {
        PriceField.allCases.filter { states(a, $0) && states(b, $0) && a[$0] != b[$0] }
    }
}
