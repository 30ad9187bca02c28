// Request reading and response values of the Rhetor compatibility API.
//
// Rhetor's clients are Python and send and parse money as JSON numbers (floats). Budget reads a
// JSON number from its exact text (never through a binary float) and writes Rhetor-shaped money
// fields as JSON numbers printed exactly from the Decimal ("0.0105", not 0.010499999…). A
// decimal string ("0.0105") is accepted wherever a number is.
import BudgetCore
import BudgetPricing
import Crypto
import Foundation
import Hummingbird

extension JSONValue {
    /// Money as an exact JSON number (Rhetor's shape); null when unknown.
    static func rhetorMoney(_ value: Decimal?) -> JSONValue { value.map { .number($0.plainText) } ?? .null }
}

/// A compatibility request body, parsed with exact numbers; every bad value is a 400 naming its field.
struct RhetorBody {
    let object: ExactJSONObject
    /// SHA-256 of the exact bytes (idempotency compares it).
    let hash: String

    static func read(_ request: Request, context: some RequestContext) async throws -> RhetorBody {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("a JSON body is required", code: "malformed_json") }
        let data = Data(buffer.readableBytesView)
        let parsed: ExactJSON
        do {
            parsed = try ExactJSON.parse(data)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: \(error)", code: "malformed_json")
        }
        guard let object = parsed.objectValue else { throw APIError.badRequest("the body must be a JSON object", code: "malformed_json") }
        let hash = HexDigest.sha256(of: data)
        return RhetorBody(object: object, hash: hash)
    }

    private func present(_ key: String) -> ExactJSON? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String, required: Bool = false, maxLength: Int = 500) throws -> String? {
        guard let value = present(key) else {
            if required { throw APIError.badRequest("\(key) is required", field: key) }
            return nil
        }
        guard let text = value.stringValue else { throw APIError.badRequest("\(key) must be a string, not a \(value.typeName)", field: key) }
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty {
            if required { throw APIError.badRequest("\(key) must not be empty", field: key) }
            return nil
        }
        guard trimmed.count <= maxLength else { throw APIError.badRequest("\(key) is longer than \(maxLength) characters", field: key) }
        return trimmed
    }

    /// Text exactly as sent (input_text): not trimmed, may be empty.
    func text(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard let text = value.stringValue else { throw APIError.badRequest("\(key) must be a string, not a \(value.typeName)", field: key) }
        return text
    }

    /// Dollars: a JSON number or decimal string, read exactly, not negative, at most 1e20.
    func money(_ key: String, required: Bool = false) throws -> Decimal? {
        guard let value = present(key) else {
            if required { throw APIError.badRequest("\(key) is required", field: key) }
            return nil
        }
        let decimal: Decimal?
        switch value {
        case .number(let number): decimal = number.decimal
        case .string(let text): decimal = Decimal(exactly: text.trimmingWhitespace())
        default: decimal = nil
        }
        guard let decimal else { throw APIError.badRequest("\(key) must be a decimal number such as 0.0125", field: key) }
        guard decimal >= 0 else { throw APIError.badRequest("\(key) must not be negative", field: key) }
        guard decimal <= Decimal(string: "1e20")! else { throw APIError.badRequest("\(key) is too large", field: key) }
        return decimal
    }

    /// A token count: a whole JSON number from 0 to 2^63-1.
    func tokens(_ key: String) throws -> Int64? {
        guard let value = present(key) else { return nil }
        guard case .number(let number) = value, let decimal = number.decimal, decimal.isWhole,
              decimal >= 0, decimal <= Decimal(Int64.max), let count = Int64(decimal.plainText) else {
            throw APIError.badRequest("\(key) must be a whole number of tokens, 0 or more", field: key)
        }
        return count
    }

    func integer(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int) throws -> Int {
        guard let value = present(key) else { return defaultValue }
        guard case .number(let number) = value, let decimal = number.decimal, decimal.isWhole, let int = Int(decimal.plainText), range.contains(int) else {
            throw APIError.badRequest("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: key)
        }
        return int
    }

    /// A caller's metadata object, kept with its numbers' digits.
    func metadata(_ key: String = "metadata") throws -> JSONValue {
        guard let value = present(key) else { return .object([:]) }
        guard value.objectValue != nil else { throw APIError.badRequest("\(key) must be a JSON object", field: key) }
        return Self.jsonValue(value)
    }

    static func jsonValue(_ value: ExactJSON) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let bool): .bool(bool)
        case .number(let number): .number(number.text)
        case .string(let string): .string(string)
        case .array(let values): .array(values.map(jsonValue))
        case .object(let object): .object(Dictionary(object.members.map { ($0.key, jsonValue($0.value)) }, uniquingKeysWith: { _, last in last }))
        }
    }
}

/// Rhetor's period argument: daily, weekly or monthly.
func rhetorPeriod(_ raw: String?, field: String = "period", default defaultValue: Period? = nil) throws -> Period {
    guard let raw else {
        if let defaultValue { return defaultValue }
        throw APIError.badRequest("\(field) is required (daily, weekly or monthly)", field: field)
    }
    guard let period = RhetorCompat.period(raw) else {
        throw APIError.badRequest("unknown \(field) '\(raw)' (use daily, weekly or monthly)", field: field)
    }
    return period
}
