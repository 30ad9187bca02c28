// Why a verification request itself is invalid.

public enum VerificationError: Error, Sendable, Hashable {
    /// Observations for different canonical keys were passed for one model.
    case mixedKeys([CanonicalModelKey])
    /// An observation names a source with no profile.
    case unknownSource(String)
    /// One source contributed two observations for the same model.
    case duplicateSource(String)
    /// Profiles repeat a name, give a non-positive weight, or form a lineage cycle.
    case invalidProfiles(String)
}
