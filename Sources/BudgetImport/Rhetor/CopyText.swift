// PostgreSQL's COPY text format: tab-separated fields, one line per row, \N for NULL, and
// backslash escapes for the characters that would break a line or a field.
import NIOCore

struct CopyTextRow {
    private(set) var fields: [String?] = []

    mutating func append(_ text: String?) { fields.append(text) }
    mutating func append(_ number: Int64?) { fields.append(number.map { String($0) }) }

    func write(into buffer: inout ByteBuffer) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard let field else {
                buffer.writeStaticString("\\N")
                continue
            }
            CopyText.writeEscaped(field, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}

enum CopyText {
    static func writeEscaped(_ text: String, into buffer: inout ByteBuffer) {
        let utf8 = text.utf8
        // Most fields need no escaping: write them in one go.
        if !utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            buffer.writeString(text)
            return
        }
        for byte in utf8 {
            switch byte {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
