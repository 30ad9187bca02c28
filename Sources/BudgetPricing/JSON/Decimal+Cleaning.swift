// Float-noise cleaning for prices already held as Decimal.
import Foundation

extension Decimal {
    /// This value with binary floating-point noise removed, by the rule of
    /// `ExactNumber.cleaned` (shortest rounding to ≤ 12 significant digits within 10^-9
    /// relative). Values of 12 or fewer significant digits are returned unchanged.
    public func cleanedPrice(maxSignificantDigits: Int = 12) -> Decimal {
        guard isFinite, let number = ExactNumber(description) else { return self }
        return number.cleaned(maxSignificantDigits: maxSignificantDigits).decimal ?? self
    }
}
