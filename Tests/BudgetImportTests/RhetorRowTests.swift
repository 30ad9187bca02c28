@testable import BudgetImport
import NIOCore
import Testing

@Suite("Rhetor's values are carried over exactly: shortest decimals, Rhetor timestamps, COPY text")
struct RhetorRowTests {
    @Test(arguments: [
        (0.0003575, "0.0003575"), (1e-05, "0.00001"), (0.1 + 0.2, "0.30000000000000004"), (123.0, "123"),
        (1.5e20, "150000000000000000000"), (0.211995, "0.211995"), (0.0, "0"), (-2.5e-07, "-0.00000025"),
        (4.5, "4.5"), (186.80495165, "186.80495165"),
    ])
    func shortestDecimalReadsBackAsTheSameDouble(value: Double, text: String) {
        #expect(ShortestDecimal.text(value) == text)
        #expect(Double(text) == value)
    }

    @Test func nonFiniteNumbersHaveNoDecimal() {
        #expect(ShortestDecimal.text(.nan) == nil)
        #expect(ShortestDecimal.text(.infinity) == nil)
    }

    @Test(arguments: ["2026-07-24T18:08:33.743134", "2026-09-01T00:00:00", "2026-08-31T23:59:59.999999", "2024-02-29 12:00:00.5"])
    func rhetorTimestampsAreAccepted(text: String) {
        #expect(RhetorTimestamp.isValid(text))
    }

    @Test(arguments: ["", "yesterday", "2026-02-29T10:00:00", "2026-13-01T00:00:00", "2026-07-24T24:00:00", "2026-07-24T18:08:33.1234567",
                      "2026-07-24T18:08", "2026-07-24T18:08:33+02:00"])
    func otherTextIsNot(text: String) {
        #expect(!RhetorTimestamp.isValid(text))
    }

    @Test func copyTextEscapesWhatWouldBreakAFieldAndMarksNull() {
        var row = CopyTextRow()
        row.append("a\tb\nc\\d\re")
        row.append(nil as String?)
        row.append(3_000_000_000 as Int64?)
        row.append("hermès 🚀")
        var buffer = ByteBuffer()
        row.write(into: &buffer)
        #expect(String(buffer: buffer) == "a\\tb\\nc\\\\d\\re\t\\N\t3000000000\thermès 🚀\n")
    }
}
