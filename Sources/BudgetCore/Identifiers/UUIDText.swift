// Identifiers on the hot path: new UUIDs and their text, without Foundation's per-call
// costs on Linux. `UUID()` opens, reads and closes /dev/urandom for every identifier, and
// `uuidString` formats through snprintf; together nearly 5% of the server's CPU samples on the
// allocate + commit path (a profile of `budget bench`).
import Foundation

extension UUID {
    /// A new version-4 (random) UUID from the system's secure generator (getrandom on Linux):
    /// 0.9 µs against `UUID()`'s 3.1 µs, which opens and reads /dev/urandom each time.
    public static func secureRandom() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return UUID.random(using: &generator)
    }

    /// A new version-7 UUID (RFC 9562): the milliseconds since 1970 of `instant` in its first 48
    /// bits, then 74 random bits from the system's secure generator. Rows keyed by such ids are
    /// inserted at the right-hand end of their b-tree indexes, in order of creation, instead of on
    /// a random leaf page each: the engine's batch took about a tenth less time with them on a
    /// database of 440,000 allocations (docs/PERFORMANCE.md), and fewer pages are touched (and
    /// written whole to the WAL after each checkpoint) as the tables grow.
    public static func timeOrdered(at instant: Date) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, (instant.timeIntervalSince1970 * 1000).rounded(.down))) & 0xFFFF_FFFF_FFFF
        let high = milliseconds << 16 | 0x7000 | generator.next() & 0x0FFF          // unix_ts_ms, version 7, rand_a
        let low = 0x8000_0000_0000_0000 | generator.next() & 0x3FFF_FFFF_FFFF_FFFF  // variant 10, rand_b
        let (h, l) = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: (h, l)) { raw in
            UUID(uuid: (raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
                        raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]))
        }
    }

    /// The 36-character text in lower case, as PostgreSQL writes a uuid and the API returns ids.
    public var lowercasedText: String { text(HexText.digits) }

    /// The 36-character text in upper case, as `uuidString` writes it.
    public var uppercasedText: String { text(Self.upperDigits) }

    private static let upperDigits = Array("0123456789ABCDEF".utf8)

    /// Appends the upper-case text to `bytes` (JSON written by hand), with no string in between.
    public func appendUppercasedText(to bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + 36)
        withUnsafeBytes(of: uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(Self.upperDigits[Int(byte >> 4)])
                bytes.append(Self.upperDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// Written straight into the string's own storage: one allocation, not a scratch array too.
    private func text(_ digits: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            var position = 0
            withUnsafeBytes(of: uuid) { raw in
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits[Int(byte >> 4)]
                    out[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
            }
            return position
        }
    }

    /// Reads the 36-character text in either case, giving what `UUID(uuidString:)` gives for it,
    /// without its sscanf (0.6 µs a call on Linux; the commit route reads an id from every URL).
    /// Stricter than sscanf: a space or a sign where a hex digit belongs is refused.
    public init?(text: String) {
        var text = text
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let read = text.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &value) { bytes in
                guard utf8.count == 36 else { return false }
                var position = 0
                for index in 0..<16 {
                    if position == 8 || position == 13 || position == 18 || position == 23 {
                        guard utf8[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = HexText.value(of: utf8[position]), let low = HexText.value(of: utf8[position + 1]) else { return false }
                    bytes[index] = high << 4 | low
                    position += 2
                }
                return true
            }
        }
        guard read else { return nil }
        self.init(uuid: value)
    }
}
