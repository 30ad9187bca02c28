// What an adapter read from a document: observations, and the entries it had to skip.

public struct ParseResult: Sendable, Hashable {
    public var observations: [PriceObservation]
    public var skipped: [SkippedEntry]

    public init(observations: [PriceObservation] = [], skipped: [SkippedEntry] = []) {
        self.observations = observations
        self.skipped = skipped
    }

    /// Observations by canonical key (an adapter emits at most one per key).
    public var byKey: [CanonicalModelKey: PriceObservation] {
        Dictionary(observations.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func observation(for key: CanonicalModelKey) -> PriceObservation? {
        observations.first { $0.key == key }
    }

    /// The observation whose raw model name (as written in the source) is `rawModel`.
    public func observation(rawModel: String) -> PriceObservation? {
        observations.first { $0.rawModel == rawModel }
    }
}
