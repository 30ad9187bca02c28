// Tests for removing binary float noise from prices, on the rule and on real LiteLLM values.
import Foundation
import Testing
import BudgetPricing

@Suite("Float-noise cleaning")
struct CleaningTests {
    struct Case: Sendable, CustomStringConvertible {
        let written: String
        let cleaned: String
        var description: String { "\(written) → \(cleaned)" }
    }

    @Test("noisy values printed from a Double collapse to the intended short decimal", arguments: [
        // Values found in LiteLLM 1.109.1 / 1.85.1 (CROSSCHECK: 63 such values).
        Case(written: "2.9999900000000002e-06", cleaned: "0.00000299999"),
        Case(written: "1.5000020000000002e-05", cleaned: "0.00001500002"),
        Case(written: "2.1429999999999996e-06", cleaned: "0.000002143"),
        Case(written: "4.285999999999999e-06", cleaned: "0.000004286"),
        Case(written: "5.714000000000001e-06", cleaned: "0.000005714"),
        Case(written: "9.999990000000002e-06", cleaned: "0.00000999999"),
        Case(written: "3.0001999999999996e-07", cleaned: "0.00000030002"),
        Case(written: "1.5000999999999998e-07", cleaned: "0.00000015001"),
        Case(written: "5.9999999999999995e-07", cleaned: "0.0000006"),
        Case(written: "0.30000000000000004", cleaned: "0.3"),
    ])
    func cleansNoise(_ example: Case) throws {
        let number = try #require(ExactNumber(example.written))
        #expect(number.cleaned().decimal == dec(example.cleaned))
        #expect(number.decimal != dec(example.cleaned))  // the raw value really is different
    }

    @Test("values with at most 12 significant digits are kept exactly",
          arguments: ["0.0000025", "1.23456789012", "0.000000435", "999999999999", "0.000002999990000001"])
    func keepsShortValues(text: String) throws {
        let number = try #require(ExactNumber(text))
        if number.significantDigits <= 12 {
            #expect(number.cleaned() == number)
        } else {
            // 13+ digits that are not noise are still rounded, but never by more than 10^-9 relative.
            let cleaned = try #require(number.cleaned().decimal)
            let original = try #require(number.decimal)
            #expect(abs(cleaned - original) <= original * dec("0.000000001"))
        }
    }

    @Test("the shortest rounding within 10^-9 relative is chosen, at most 12 digits")
    func shortestWithinTolerance() throws {
        // 1.234567890123: 9 digits are within 1e-10 relative; 8 digits would move it by 8e-9.
        #expect(ExactNumber("1.234567890123")?.cleaned().decimal == dec("1.23456789"))
        // Carry across all digits: 9.9999999999999999 → 10.
        #expect(ExactNumber("9.9999999999999999")?.cleaned().decimal == dec("10"))
        // A tolerance too tight for any shorter form keeps 12 digits.
        #expect(ExactNumber("1.2345678901234567")?.cleaned(relativeToleranceExponent: -20).text == "1.2345678901234567")
        #expect(ExactNumber("-2.9999900000000002e-06")?.cleaned().decimal == dec("-0.00000299999"))
    }

    @Test("Decimal.cleanedPrice applies the same rule")
    func decimalCleaning() {
        #expect(dec("0.0000029999900000000002").cleanedPrice() == dec("0.00000299999"))
        #expect(dec("0.0000025").cleanedPrice() == dec("0.0000025"))
    }

    @Test("LiteLLM entries with float noise are stored cleaned, the raw entry untouched")
    func litellmNoise() throws {
        let result = try Fixture.litellm()
        let noisy = result.observations.filter { $0.rawEntry.contains("2.9999900000000002e-06") }
        #expect(!noisy.isEmpty)
        for observation in noisy {
            let fields = PriceField.allCases.compactMap { observation.prices[$0] }
            #expect(fields.contains(dec("0.00000299999")))
            #expect(!fields.contains(dec("0.0000029999900000000002")))
        }
        // databricks/databricks-claude-sonnet-4-1 in 1.109.1: 2.9999900000000002e-06 / 1.5000020000000002e-05.
        let databricks = try #require(result.observation(rawModel: "databricks/databricks-claude-sonnet-4-1"))
        #expect(databricks.input == dec("0.00000299999"))
        #expect(databricks.output == dec("0.00001500002"))
    }
}
