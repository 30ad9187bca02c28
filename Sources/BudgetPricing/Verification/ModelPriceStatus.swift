// The verification status of a model's price as a whole.

/// Stored with a price version (`verified`, `single_source`, `conflict`; `manual` is set by
/// admins, never by the verifier).
public enum ModelPriceStatus: String, Sendable, Hashable, Codable {
    /// Every stated field was accepted by a quorum.
    case verified
    /// Some field rests on one source only (and none is in conflict).
    case singleSource = "single_source"
    /// Some field is in conflict or a lone source's change was rejected: needs attention.
    case conflict
    /// No source states any price.
    case noData = "no_data"
}
