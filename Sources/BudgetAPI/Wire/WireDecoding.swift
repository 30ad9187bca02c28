// Reading request bodies and query strings strictly: every bad value is a 400 naming its field.
import BudgetCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A decimal sent as a JSON string ("0.0125"), or as a JSON integer. Fractional JSON numbers
/// are refused: they would have passed through a binary float on the caller's side.
struct DecimalInput: Decodable, Sendable, Equatable {
    var value: Decimal

    init(value: Decimal) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = Decimal(exactly: text.trimmingWhitespace()) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a decimal number")
            }
            self.value = value
        } else if let integer = try? container.decode(Int64.self) {
            value = Decimal(integer)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a decimal string such as \"0.0125\" (money travels as strings)")
        }
    }
}

/// A JSON number or string for fractions that are not money (warn_at).
struct FractionInput: Decodable, Sendable {
    var value: Decimal

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Decimal(exactly: text.trimmingWhitespace()) {
            self.value = value
        } else if let number = try? container.decode(Decimal.self) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a number between 0 and 1")
        }
    }
}

/// A field that may be absent, null, or set (PATCH bodies).
enum Patch<Value: Decodable & Sendable>: Sendable {
    case absent, null, value(Value)

    var isPresent: Bool { if case .absent = self { return false } else { return true } }

    var asDoubleOptional: Value?? {
        switch self {
        case .absent: return nil
        case .null: return .some(nil)
        case .value(let value): return .some(value)
        }
    }
}

extension KeyedDecodingContainer {
    func decodePatch<Value: Decodable & Sendable>(_ type: Value.Type, forKey key: Key) throws -> Patch<Value> {
        guard contains(key) else { return .absent }
        if try decodeNil(forKey: key) { return .null }
        return .value(try decode(Value.self, forKey: key))
    }
}

struct RequestBody<Value: Decodable> {
    var value: Value
    /// SHA-256 of the exact bytes: what idempotency keys compare.
    var hash: String
}

extension RequestBody {
    /// Decodes a JSON body, refusing an empty or malformed one with a 400.
    static func decode(_ buffer: ByteBuffer) throws -> RequestBody<Value> {
        try nonEmpty(buffer).withUnsafeReadableBytes { bytes in
            RequestBody(value: try BudgetJSON.decoder.decode(Value.self, from: Data(bytes)), hash: HexDigest.sha256(of: bytes))
        }
    }

    private static func nonEmpty(_ buffer: ByteBuffer) throws -> ByteBuffer {
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("a JSON body is required", code: "malformed_json") }
        return buffer
    }
}

extension RequestBody where Value: HandReadable {
    /// The hot path's bodies: read by hand when they have the plain shape, by JSONDecoder otherwise.
    static func decode(_ buffer: ByteBuffer) throws -> RequestBody<Value> {
        try nonEmpty(buffer).withUnsafeReadableBytes { bytes in
            let hash = HexDigest.sha256(of: bytes)
            if let members = HandReadMembers.of(bytes), let value = Value(handReading: members) {
                return RequestBody(value: value, hash: hash)
            }
            return RequestBody(value: try BudgetJSON.decoder.decode(Value.self, from: Data(bytes)), hash: hash)
        }
    }
}

extension Request {
    /// Decodes the JSON body, refusing an empty or malformed one with a 400.
    func decodeBody<Value: Decodable>(_ type: Value.Type, context: some RequestContext) async throws -> RequestBody<Value> {
        try RequestBody<Value>.decode(try await body.collect(upTo: context.maxUploadSize))
    }

    /// The hot path's bodies: read by hand when they have the plain shape, by JSONDecoder otherwise.
    func decodeBody<Value: HandReadable>(_ type: Value.Type, context: some RequestContext) async throws -> RequestBody<Value> {
        try RequestBody<Value>.decode(try await body.collect(upTo: context.maxUploadSize))
    }

    /// The Idempotency-Key header, if any (1–255 printable characters).
    func idempotencyKey() throws -> String? {
        try headers.idempotencyKey()
    }

    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters.get(name) else { return nil }
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    func queryInstant(_ name: String) throws -> Date? {
        guard let text = query(name) else { return nil }
        guard let date = InstantFormat.parse(text) else {
            throw APIError.badRequest("\(name) must be an ISO 8601 time with a zone, e.g. 2026-11-21T00:00:00Z", field: name)
        }
        return date
    }

    func queryUUID(_ name: String) throws -> UUID? {
        guard let text = query(name) else { return nil }
        guard let id = UUID(text: text) else { throw APIError.badRequest("\(name) must be a UUID", field: name) }
        return id
    }
}

extension Parameters {
    func uuid(_ name: String) throws -> UUID {
        guard let text = get(name), let id = UUID(text: text) else {
            throw APIError.notFound("'\(get(name) ?? "")' is not a valid id")
        }
        return id
    }
}

/// Turns a raw enum string into its case, or a 400 listing the allowed values.
func parseEnum<E: RawRepresentable & CaseIterable>(_ raw: String?, _ type: E.Type, field: String, default defaultValue: E? = nil) throws -> E where E.RawValue == String {
    guard let raw else {
        if let defaultValue { return defaultValue }
        throw APIError.badRequest("\(field) is required (one of \(E.allCases.map(\.rawValue).joined(separator: ", ")))", field: field)
    }
    guard let value = E(rawValue: raw) else {
        throw APIError.badRequest("unknown \(field) '\(raw)' (use one of \(E.allCases.map(\.rawValue).joined(separator: ", ")))", field: field)
    }
    return value
}

func requireNonNegative(_ value: Int64, field: String) throws {
    if value < 0 { throw APIError.badRequest("\(field) must not be negative", field: field) }
}

/// Lower-case hex of a SHA-256 digest (request hashes for idempotency).
enum HexDigest {
    static func sha256(of bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).withUnsafeBytes { HexText.lowercase($0) }
    }
}

extension HTTPFields {
    /// The Idempotency-Key header, if any (1–255 printable characters).
    func idempotencyKey() throws -> String? {
        guard let key = self[HTTPField.Name("Idempotency-Key")!] else { return nil }
        let trimmed = key.trimmingWhitespace()
        guard (1...255).contains(trimmed.count) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 characters", field: "Idempotency-Key")
        }
        return trimmed
    }
}
