import BudgetCore
import Foundation
import Testing

@Suite("Wire text written and read by hand: the same JSON as Foundation's encoder, the same instants as its ISO 8601 parser, lower-case hex")
struct WireTextTests {
    static let foundation: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let samples: [JSONValue] = [
        .null, .bool(true), .bool(false), .number("0"), .number("-12"), .number("3.25"), .number("9223372036854775807"),
        .string(""), .string("plain"), .string("quote \" backslash \\ slash / tab \t newline \n return \r"),
        .string("control \u{01}\u{1F} bell \u{07} form \u{0C} back \u{08}"), .string("Zürich ⌘ 日本 🚀"),
        .array([]), .object([:]),
        .object(["b": .number("2"), "a": .array([.string("x"), .null, .object(["z": .bool(false), "y": .string("é")])]), "A": .string("upper")]),
    ]

    @Test(arguments: samples)
    func writesWhatTheEncoderWrites(_ value: JSONValue) throws {
        let ours = String(decoding: try value.jsonBytes(), as: UTF8.self)
        let theirs = String(decoding: try Self.foundation.encode(value), as: UTF8.self)
        #expect(ours == theirs)
        // And it reads back as the same value.
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(ours.utf8)) == value)
    }

    @Test(arguments: ["1.", ".5", "01", "1e", "--1", "NaN", "1,5", "", "0x10", "1.5e+"])
    func refusesANumberThatIsNotJSON(_ text: String) {
        #expect(throws: JSONWriterError.notANumber(text)) { try JSONValue.array([.number(text)]).jsonBytes() }
    }

    @Test func quotesStringsForSplicingIntoJSON() throws {
        let quoted = JSONText.quoted("key \"with\" \\ and \n")
        #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == "key \"with\" \\ and \n")
    }

    @Test func writesBytesAsLowerCaseHex() {
        #expect(HexText.lowercase([0x00, 0x0f, 0x10, 0xab, 0xff]) == "000f10abff")
        #expect(HexText.lowercase([UInt8]()) == "")
    }

    @Test(arguments: [
        "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.123Z", "2026-11-21T10:00:00.5Z", "2026-11-21T10:00:00.123456Z",
        "2026-11-21 10:00:00+00:00", "2026-11-21T10:00:00.25+01:00", "2026-03-29T01:30:00-04:00", "2024-02-29T23:59:59.999+05:30",
        "1999-12-31T23:59:59Z", "2026-11-21T10:00:00+0100",
    ])
    func readsInstantsAsFoundationDoes(_ text: String) throws {
        let ours = try #require(InstantFormat.parse(text))
        let normalised = text.replacingOccurrences(of: " ", with: "T")
        let theirs = try (try? Date(normalised, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            ?? Date(normalised, strategy: Date.ISO8601FormatStyle())
        #expect(abs(ours.timeIntervalSince(theirs)) < 0.000_001, "\(text): \(ours.timeIntervalSince1970) vs \(theirs.timeIntervalSince1970)")
    }

    @Test(arguments: ["2026-02-31T10:00:00Z", "2026-13-01T10:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T10:00:00", "2026-11-21",
                      "2026-11-21T10:00:00Zjunk", "2026-11-21T10:00:00.Z", "tomorrow at ten"])
    func refusesTextThatIsNotAnInstant(_ text: String) {
        #expect(InstantFormat.parse(text) == nil)
    }

    @Test func writesWhatItReads() throws {
        let instant = Date(timeIntervalSince1970: 1_795_000_000.125)
        #expect(InstantFormat.string(instant) == "2026-11-18T11:06:40.125Z")
        #expect(InstantFormat.parse(InstantFormat.string(instant)) == instant)
    }

    @Test(arguments: ["2026-08-02T10:41:31.837276Z", "2026-08-31T23:59:59.999999Z", "2026-09-01T00:00:00.000000Z",
                      "2026-11-21T10:00:00.000001Z", "1969-12-31T23:59:59.999999Z", "2286-11-20T17:46:39.500000Z"])
    func writesMicrosecondsAsPostgreSQLStoresThem(_ text: String) throws {
        let instant = try #require(InstantFormat.parse(text))
        #expect(InstantFormat.microseconds(instant) == text)
        // As postgres-nio builds a Date from a timestamptz: microseconds since 2000-01-01.
        let since2000 = instant.timeIntervalSince(Date(timeIntervalSince1970: 946_684_800))
        let micros = Int64((since2000 * 1_000_000).rounded())
        let decoded = Date(timeInterval: Double(micros) / 1_000_000, since: Date(timeIntervalSince1970: 946_684_800))
        #expect(InstantFormat.microseconds(decoded) == text)
    }

    /// Yields now and then: suites share the task pool with the API suites' live servers.
    @Test func writesTheCalendarsFieldsForAnyInstantFrom1938To2286() async {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        for round in 0..<1_000 {
            if round % 50 == 0 { await Task.yield() }
            let seconds = Int.random(in: -1_000_000_000...10_000_000_000, using: &generator)
            let millis = Int.random(in: 0...999, using: &generator)
            let instant = Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1000)
            let fields = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
            let whole = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", fields.year!, fields.month!, fields.day!, fields.hour!, fields.minute!, fields.second!)
            #expect(InstantFormat.seconds(Date(timeIntervalSince1970: Double(seconds))) == whole + "Z")
            #expect(InstantFormat.string(instant) == whole + String(format: ".%03dZ", millis))
        }
    }

    @Test func aUUIDsTextIsFoundationsInEitherCase() throws {
        var ids = [UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!,
                   UUID(uuidString: "0123abcd-4567-89ef-0a1b-2c3d4e5f6789")!]
        for _ in 0..<200 { ids.append(UUID()) }
        for id in ids {
            #expect(id.uppercasedText == id.uuidString)
            #expect(id.lowercasedText == id.uuidString.lowercased())
            #expect(UUID(uuidString: id.lowercasedText) == id)
        }
    }

    @Test func readsUUIDTextInEitherCaseAsFoundationDoes() async {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<500 {
            if round % 50 == 0 { await Task.yield() }
            let id = UUID.secureRandom()
            let text = Bool.random(using: &generator) ? id.uuidString : id.lowercasedText
            #expect(UUID(text: text) == id)
            // A damaged text is refused, or read as Foundation reads it (which lets some damage
            // through: its sscanf takes " 1" and "-1" as hex bytes).
            var bytes = Array(text.utf8)
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = Array("-0aFg{ ".utf8).randomElement(using: &generator)!
            let damaged = String(decoding: bytes, as: UTF8.self)
            if let read = UUID(text: damaged) { #expect(read == UUID(uuidString: damaged), "\(damaged)") }
        }
    }

    @Test(arguments: ["", "0123abcd-4567-89ef-0a1b-2c3d4e5f678", "0123abcd-4567-89ef-0a1b-2c3d4e5f67890", "0123abcd+4567-89ef-0a1b-2c3d4e5f6789",
                      "0123abcd-4567-89ef-0a1b-2c3d4e5f678g", "{0123abcd-4567-89ef-0a1b-2c3d4e5f6789}", "0123abcd45674-89ef-0a1b-2c3d4e5f6789",
                      "0123abcd-4567-89ef-0a1b-2c3d4e5f678é", "ff6bd926-200a-4fe6--13e-58efcec90af8", "a85f9787-abe9-44 6-8f1f-938fdde05fde"])
    func refusesUUIDTextThatIsNotHexInItsPlaces(text: String) {
        #expect(UUID(text: text) == nil)
    }

    @Test func randomUUIDsAreVersionFourWithTheRFCVariantAndDistinct() {
        var seen = Set<UUID>()
        for _ in 0..<10_000 {
            let id = UUID.secureRandom()
            let text = id.lowercasedText
            #expect(Array(text)[14] == "4", "version nibble of \(text)")
            #expect("89ab".contains(Array(text)[19]), "variant nibble of \(text)")
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    /// Version 7 (RFC 9562): the instant's milliseconds in the first 48 bits, the version and
    /// variant in their places, the rest random; ids of later milliseconds sort after earlier ones.
    @Test func timeOrderedUUIDsCarryTheirMillisecondAndSortByIt() {
        let start = Date(timeIntervalSince1970: 1_795_340_000.123_9)   // 2026-11-22T09:33:20.123Z
        var seen = Set<UUID>()
        var previous: (instant: Date, text: String)?
        for step in 0..<10_000 {
            let instant = start.addingTimeInterval(Double(step / 10) * 0.001)   // ten ids per millisecond
            let id = UUID.timeOrdered(at: instant)
            let text = id.lowercasedText
            let hex = text.replacingOccurrences(of: "-", with: "")
            #expect(UInt64(hex.prefix(12), radix: 16) == UInt64((instant.timeIntervalSince1970 * 1000).rounded(.down)), "time of \(text)")
            #expect(Array(text)[14] == "7", "version nibble of \(text)")
            #expect("89ab".contains(Array(text)[19]), "variant nibble of \(text)")
            if let previous, instant > previous.instant { #expect(previous.text < text, "\(previous.text) then \(text)") }
            previous = (instant, text)
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        #expect(UUID.timeOrdered(at: start).lowercasedText.hasPrefix("01a2029a-5b7b-7"))   // 1,795,340,000,123 ms = 0x01a2029a5b7b
    }

    /// The instant a usage record is decided and stored with: the start of its millisecond, which
    /// the wire text writes and reads back exactly, and the same Date for every spelling of it.
    @Test func usageInstantsAreTheStartOfTheirMillisecond() throws {
        let nearMidnight = try #require(InstantFormat.parse("2026-03-10T23:59:59.9996Z"))
        let stored = InstantFormat.wholeMilliseconds(nearMidnight)
        #expect(InstantFormat.string(stored) == "2026-03-10T23:59:59.999Z")
        #expect(InstantFormat.string(nearMidnight) == "2026-03-11T00:00:00.000Z")   // what rounding would have stored
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let micros = Int64.random(in: 1_700_000_000_000_000...1_900_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            let whole = InstantFormat.wholeMilliseconds(date)
            #expect(whole <= date && date.timeIntervalSince(whole) < 0.001)
            #expect(InstantFormat.parse(InstantFormat.string(whole)) == whole)
            #expect(InstantFormat.wholeMilliseconds(whole) == whole)
            let sameMillisecond = Date(timeIntervalSinceReferenceDate: Double(micros / 1000 * 1000 - 978_307_200_000_000) / 1_000_000)
            #expect(InstantFormat.wholeMilliseconds(sameMillisecond) == whole)
        }
    }
}
