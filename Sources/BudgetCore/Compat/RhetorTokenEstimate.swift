// Rhetor's token approximation, used by the compatibility API when a caller sends text instead
// of token counts (as Rhetor's BudgetManager did without litellm installed).
import Foundation

/// Rhetor's fallback counter and its assumed output, kept exactly so that a Rhetor caller gets
/// the same numbers from Budget as from its own `count_tokens` / `estimate_cost`:
///
/// - tokens of a text: `len(text.split()) + int(len(text) / 4)` — whitespace-separated words plus
///   a quarter of the length in characters (Unicode scalars, as Python counts), rounded down; an
///   empty text is 0 tokens.
/// - output of a call: `estimate_cost` assumes a reply of 500 characters (`"a" * 500`), which is
///   1 word + 125 = **126 tokens**.
///
/// It is an approximation (real tokenisers differ by model); callers who know their counts send
/// `input_tokens` / `output_tokens` instead.
public enum RhetorTokenEstimate {
    /// The reply length `estimate_cost` assumes, in characters.
    public static let assumedOutputCharacters = 500

    /// Tokens of the assumed reply ("a" × 500): 126.
    public static var assumedOutputTokens: Int64 { tokens(in: String(repeating: "a", count: assumedOutputCharacters)) }

    /// `len(text.split()) + int(len(text) / 4)`; 0 for an empty text.
    public static func tokens(in text: String) -> Int64 {
        guard !text.isEmpty else { return 0 }
        var words: Int64 = 0
        var inWord = false
        var length: Int64 = 0
        for scalar in text.unicodeScalars {
            length += 1
            if isPythonWhitespace(scalar) {
                inWord = false
            } else if !inWord {
                inWord = true
                words += 1
            }
        }
        return words + length / 4
    }

    /// What `str.split()` splits on: Unicode white space plus the ASCII information separators
    /// (U+001C…U+001F), which Python also counts as white space.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if (0x1C...0x1F).contains(scalar.value) { return true }
        return scalar.properties.isWhitespace
    }
}
