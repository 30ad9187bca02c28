// Shared reading of price numbers: validation, float-noise cleaning and unit scaling.
import Foundation

/// Reads one price value from a catalogue entry as USD per token.
enum PriceReading {
    /// Units the catalogues use, as the power of ten that turns them into USD per token.
    enum Unit: Int {
        /// USD per token (LiteLLM, tokencost, Langfuse, OpenRouter).
        case usdPerToken = 0
        /// US cents per token (Portkey): × 10^-2.
        case centsPerToken = -2
        /// USD per million tokens (llm-prices, genai-prices): × 10^-6.
        case usdPerMillion = -6
    }

    /// The value as a cleaned, exact per-token Decimal; nil when absent or JSON null.
    /// - Throws: `EntrySkip(.malformedNumber)` for negative numbers, wrong types, strings that
    ///   are not numbers (unless `numericStrings`), or numbers no Decimal can hold exactly.
    static func price(_ value: ExactJSON?, field: String, unit: Unit, numericStrings: Bool = false) throws(EntrySkip) -> Decimal? {
        guard let value else { return nil }
        let number: ExactNumber
        switch value {
        case .null:
            return nil
        case .number(let n):
            number = n
        case .string(let text) where numericStrings:
            guard let n = ExactNumber(text) else { throw EntrySkip(.malformedNumber(field: field, value: text)) }
            number = n
        default:
            throw EntrySkip(.malformedNumber(field: field, value: value.jsonText))
        }
        guard !number.isNegative else { throw EntrySkip(.malformedNumber(field: field, value: number.text)) }
        // Clean first (noise is a property of how the source printed its number), then scale:
        // shifting by a power of ten cannot reintroduce noise.
        guard let decimal = number.cleaned().scaled(byPowerOfTen: unit.rawValue).decimal else {
            throw EntrySkip(.malformedNumber(field: field, value: number.text))
        }
        return decimal
    }

    /// A positive whole number of tokens (a tier threshold).
    static func tokenCount(_ value: ExactJSON?, field: String) throws(EntrySkip) -> Int64 {
        guard let number = value?.numberValue, !number.isNegative, number.exponent >= 0,
              let decimal = number.decimal, let count = Int64(decimal.description) else {
            throw EntrySkip(.malformedNumber(field: field, value: value?.jsonText ?? "missing"))
        }
        return count
    }

    /// `N` from a `…_above_<N>k_tokens` or `-<N>k` spelling, as tokens (N × 1000).
    static func thousands(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.count <= 6, text.allSatisfy(\.isNumber), let n = Int64(text) else { return nil }
        return n * 1000
    }
}
