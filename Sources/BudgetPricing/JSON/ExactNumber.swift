// A JSON number kept as its exact decimal text, convertible to Decimal without passing through Double.
import Foundation

/// A decimal number exactly as written: `value = (isNegative ? -1 : 1) × digits × 10^exponent`.
///
/// Prices arrive as JSON numbers such as `2.9999900000000002e-06`. Converting them through
/// `Double` (as `JSONSerialization`/`JSONDecoder` do) would invent digits; this type keeps the
/// written digits and turns them into a `Decimal` by moving the decimal point in the text.
public struct ExactNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text as it appeared in the document.
    public let text: String
    public let isNegative: Bool
    /// Significant digits, ASCII, without leading or trailing zeros ("0" for zero).
    public let significand: String
    /// Power of ten that scales `significand`. Clamped to ±1e9 for absurd inputs, which then
    /// have no `decimal` value.
    public let exponent: Int

    /// The most significant digits a Foundation `Decimal` holds exactly.
    public static let maxDecimalDigits = 38

    /// Parses text in the JSON number grammar (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
    /// and nothing else: no "+1", ".5", "1.", "0x1", "NaN", spaces or trailing characters.
    /// Foundation's `Decimal(string:)` would accept "12abc" as 12, so it is never used unvalidated.
    public init?(_ text: String) {
        guard let parsed = Self.parse(Array(text.utf8)) else { return nil }
        self = parsed
    }

    init(text: String, isNegative: Bool, significand: String, exponent: Int) {
        self.text = text
        self.isNegative = isNegative && significand != "0"
        self.significand = significand
        self.exponent = significand == "0" ? 0 : exponent
    }

    public var description: String { text }

    public var isZero: Bool { significand == "0" }

    /// Number of significant digits.
    public var significantDigits: Int { isZero ? 0 : significand.utf8.count }

    /// Values are equal when they denote the same number, whatever their spelling ("1.50" == "15e-1").
    public static func == (lhs: ExactNumber, rhs: ExactNumber) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.significand == rhs.significand && lhs.exponent == rhs.exponent
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(significand)
        hasher.combine(exponent)
    }

    /// The exact `Decimal`, or nil when it cannot be held exactly (more than 38 significant
    /// digits, or an exponent outside Decimal's range). Never rounds silently.
    public var decimal: Decimal? {
        guard significantDigits <= Self.maxDecimalDigits else { return nil }
        if isZero { return Decimal.zero }
        // Decimal keeps a signed 8-bit exponent; allow padding the significand with zeros
        // for large exponents as long as it still fits in 38 digits.
        guard exponent >= -128, exponent + significantDigits <= 127 + Self.maxDecimalDigits else { return nil }
        if exponent > 127, significantDigits + (exponent - 127) > Self.maxDecimalDigits { return nil }
        return Decimal(string: plainText, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// The number written without an exponent, e.g. "0.00000299999". Shifting the decimal point
    /// in the digit string is exact, unlike multiplying by a power of ten in floating point.
    /// Only meaningful for exponents within a few hundred places; `decimal` checks the range first.
    public var plainText: String {
        var out = isNegative ? "-" : ""
        if isZero { return "0" }
        let digits = significand
        if exponent >= 0 {
            out += digits + String(repeating: "0", count: exponent)
        } else {
            let pointPosition = digits.count + exponent
            if pointPosition <= 0 {
                out += "0." + String(repeating: "0", count: -pointPosition) + digits
            } else {
                let index = digits.index(digits.startIndex, offsetBy: pointPosition)
                out += digits[..<index] + "." + digits[index...]
            }
        }
        return out
    }

    /// The same number times 10^`power`, exactly (e.g. per-1M → per-token is `power: -6`).
    public func scaled(byPowerOfTen power: Int) -> ExactNumber {
        if isZero || power == 0 { return self }
        let newExponent = Self.clamped(exponent.addingReportingOverflow(power))
        return ExactNumber(text: Self.render(isNegative, significand, newExponent),
                           isNegative: isNegative, significand: significand, exponent: newExponent)
    }

    /// Removes binary floating-point noise from a price that was printed from a `Double`.
    ///
    /// Rule: a number with at most `maxSignificantDigits` (12) significant digits is kept as
    /// written. A longer one is replaced by the *shortest* rounding (half away from zero) to
    /// 1…12 significant digits that lies within `relativeTolerance` (10^-9) of it. So
    /// `2.9999900000000002e-06` → `2.99999e-06` and `5.9999999999999995e-07` → `6e-07`.
    ///
    /// Why: a Double carries 15–17 significant digits and prints noise in the last one or two;
    /// real list prices have a handful of digits. A 12-digit rounding always moves the value by
    /// less than 5×10^-12 of itself, so a candidate is always found; the shortest candidate is
    /// taken so that both `…0000002` and `…9999998` noise collapse to the intended short decimal,
    /// and the 10^-9 bound guarantees no price moves by more than a billionth of itself
    /// (a few cents on a billion-dollar ledger).
    public func cleaned(maxSignificantDigits: Int = 12, relativeToleranceExponent: Int = -9) -> ExactNumber {
        let digits = Array(significand.utf8)
        guard maxSignificantDigits >= 1, digits.count > maxSignificantDigits else { return self }
        // diff ≤ 10^tol × D  ⇔  diff × 10^(-tol) ≤ D, with D the full significand as an integer.
        let zerosForTolerance = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, -relativeToleranceExponent))
        for keep in 1...maxSignificantDigits {
            let cut = digits.count - keep
            let prefix = Array(digits[..<keep])
            let tail = Array(digits[keep...])
            let roundUp = tail[0] >= UInt8(ascii: "5")
            let difference: [UInt8]
            if roundUp {
                let unit = [UInt8(ascii: "1")] + [UInt8](repeating: UInt8(ascii: "0"), count: cut)
                difference = DigitArithmetic.subtract(unit, [UInt8(ascii: "0")] + tail)
            } else {
                difference = tail
            }
            guard DigitArithmetic.compare(difference + zerosForTolerance, digits) <= 0 else { continue }
            let rounded = roundUp ? DigitArithmetic.incremented(prefix) : prefix
            return Self.make(isNegative: isNegative, digits: rounded, exponent: exponent + cut)
        }
        return self
    }

    // MARK: - Parsing

    /// Parses bytes in the strict JSON number grammar; nil when they are anything else.
    static func parse(_ bytes: [UInt8]) -> ExactNumber? {
        parse(bytes[...], text: nil)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, text: String?) -> ExactNumber? {
        var i = bytes.startIndex
        let end = bytes.endIndex
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < end, isDigit(bytes[i]) else { return nil }
        let intStart = i
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < end, isDigit(bytes[i]) { i += 1 }
        }
        let intDigits = bytes[intStart..<i]
        var fracDigits = bytes[i..<i]
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < end, isDigit(bytes[i]) { i += 1 }
            guard i > fracStart else { return nil }
            fracDigits = bytes[fracStart..<i]
        }
        var exponentValue = 0
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var exponentNegative = false
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < end, isDigit(bytes[i]) {
                // Saturate rather than overflow: such a number is valid JSON but has no Decimal.
                if exponentValue < 1_000_000_000 { exponentValue = exponentValue * 10 + Int(bytes[i] - 48) }
                i += 1
            }
            guard i > expStart else { return nil }
            if exponentNegative { exponentValue = -exponentValue }
        }
        guard i == end else { return nil }
        let allDigits = Array(intDigits) + Array(fracDigits)
        let exponent = clamped(exponentValue.subtractingReportingOverflow(fracDigits.count))
        let number = make(isNegative: negative, digits: allDigits, exponent: exponent,
                          text: text ?? String(decoding: bytes, as: UTF8.self))
        return number
    }

    /// Normalises digits (drops leading and trailing zeros) into an `ExactNumber`.
    static func make(isNegative: Bool, digits: [UInt8], exponent: Int, text: String? = nil) -> ExactNumber {
        var slice = digits[...]
        while let first = slice.first, first == UInt8(ascii: "0") { slice = slice.dropFirst() }
        var exponent = exponent
        while let last = slice.last, last == UInt8(ascii: "0") {
            slice = slice.dropLast()
            exponent = clamped(exponent.addingReportingOverflow(1))
        }
        let significand = slice.isEmpty ? "0" : String(decoding: slice, as: UTF8.self)
        return ExactNumber(text: text ?? render(isNegative, significand, exponent),
                           isNegative: isNegative, significand: significand, exponent: exponent)
    }

    /// Canonical text for a computed number: the significand with an `e` exponent when needed.
    private static func render(_ negative: Bool, _ significand: String, _ exponent: Int) -> String {
        if significand == "0" { return "0" }
        return (negative ? "-" : "") + significand + (exponent == 0 ? "" : "e\(exponent)")
    }

    private static func clamped(_ result: (partialValue: Int, overflow: Bool)) -> Int {
        let limit = 1_000_000_000
        if result.overflow { return limit }
        return min(max(result.partialValue, -limit), limit)
    }
}
