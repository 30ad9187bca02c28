// The knobs of cross-source price verification.
import Foundation

/// When agreeing sources may change a price. Defaults follow CROSSCHECK.md: real disagreements
/// are ×1.5 to ×5 and agreements exact, so a 1% tolerance separates them cleanly.
public struct VerificationPolicy: Sendable, Hashable, Codable {
    /// Values within this relative difference (|a−b| ≤ tolerance × max(a, b)) agree.
    public var tolerance: Decimal
    /// Independent sources (lineages) a group needs to be accepted.
    public var minSources: Int
    /// Share of the weight of the sources that state the field that a group needs.
    public var minWeightShare: Decimal
    /// A lone source may move an existing price by at most this relative change.
    public var maxSingleSourceChange: Decimal
    /// Treat a zero price as unstated (CROSSCHECK §5: zeros in the catalogues are placeholders,
    /// e.g. LiteLLM 1.85.1 `gemini-1.5-flash` output 0). Unknown is never free.
    public var zeroMeansMissing: Bool
    /// For moving aliases (`-latest`), accept only when every source agrees: sources that
    /// disagree resolved the alias to different models, which no majority can settle.
    public var aliasesRequireUnanimity: Bool

    public init(tolerance: Decimal = Decimal(string: "0.01")!, minSources: Int = 2,
                minWeightShare: Decimal = Decimal(string: "0.5")!, maxSingleSourceChange: Decimal = Decimal(string: "0.5")!,
                zeroMeansMissing: Bool = true, aliasesRequireUnanimity: Bool = true) {
        self.tolerance = tolerance
        self.minSources = minSources
        self.minWeightShare = minWeightShare
        self.maxSingleSourceChange = maxSingleSourceChange
        self.zeroMeansMissing = zeroMeansMissing
        self.aliasesRequireUnanimity = aliasesRequireUnanimity
    }
}
