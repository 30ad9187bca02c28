// The bodies of allocate, check and commit read by hand: JSONDecoder was about 8% of the server's
// CPU on the hot path. The hand reading takes the plain shapes of those bodies. Anything else
// (a wrong type, an escape or a number where the reader does not take it, malformed JSON) goes
// to JSONDecoder as before, which decides and names the field in its 400. So the hand reading
// may only ever accept what JSONDecoder accepts, with the same value; HandReadBodiesTests holds
// it to that.
import BudgetCore
import BudgetPricing
import Foundation

/// A request body that can be read from a JSON object by hand.
protocol HandReadable: Decodable {
    /// Nil when any member has a shape the hand reading does not take.
    init?(handReading members: HandReadMembers)
}

/// The members of one JSON object, read as a Decodable type's `decodeIfPresent` would read them:
/// absent and null are nil, a value of any other type is `Unreadable`.
struct HandReadMembers {
    struct Unreadable: Error {}

    let object: ExactJSONObject

    /// The body's members, when the text is a JSON object whose shape the hand reading takes.
    /// Left to JSONDecoder: a byte-order mark, `\u` escapes (lone surrogates and the like), and
    /// repeated keys.
    static func of(_ bytes: UnsafeRawBufferPointer) -> HandReadMembers? {
        guard !bytes.starts(with: [0xEF, 0xBB, 0xBF]), !Self.containsUnicodeEscape(bytes),
              case .object(let object)? = try? ExactJSON.parse(bytes) else { return nil }
        return try? HandReadMembers(object)
    }

    private init(_ object: ExactJSONObject) throws(Unreadable) {
        guard Set(object.keys).count == object.count else { throw Unreadable() }
        self.object = object
    }

    private static func containsUnicodeEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var backslash = false
        for byte in bytes {
            if backslash && byte == UInt8(ascii: "u") { return true }
            backslash = !backslash && byte == UInt8(ascii: "\\")
        }
        return false
    }

    private func present(_ key: String) -> ExactJSON? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?: return value
        }
    }

    func string(_ key: String) throws(Unreadable) -> String? {
        switch present(key) {
        case nil: return nil
        case .string(let text)?: return text
        default: throw Unreadable()
        }
    }

    func bool(_ key: String) throws(Unreadable) -> Bool? {
        switch present(key) {
        case nil: return nil
        case .bool(let value)?: return value
        default: throw Unreadable()
        }
    }

    func int64(_ key: String) throws(Unreadable) -> Int64? {
        switch present(key) {
        case nil: return nil
        case .number(let number)?: return try Self.integer(number)
        default: throw Unreadable()
        }
    }

    func int(_ key: String) throws(Unreadable) -> Int? {
        try int64(key).map { Int($0) }
    }

    func strings(_ key: String) throws(Unreadable) -> [String]? {
        switch present(key) {
        case nil: return nil
        case .array(let items)?:
            return try items.map { item throws(Unreadable) in
                guard case .string(let text) = item else { throw Unreadable() }
                return text
            }
        default: throw Unreadable()
        }
    }

    func object(_ key: String) throws(Unreadable) -> HandReadMembers? {
        switch present(key) {
        case nil: return nil
        case .object(let object)?: return try HandReadMembers(object)
        default: throw Unreadable()
        }
    }

    /// As `DecimalInput` reads it: decimal text, or a whole JSON number.
    func decimal(_ key: String) throws(Unreadable) -> DecimalInput? {
        switch present(key) {
        case nil: return nil
        case .string(let text)?:
            guard let value = Decimal(exactly: text.trimmingWhitespace()) else { throw Unreadable() }
            return DecimalInput(value: value)
        case .number(let number)?: return DecimalInput(value: Decimal(try Self.integer(number)))
        default: throw Unreadable()
        }
    }

    /// As the decoder's date strategy reads it.
    func instant(_ key: String) throws(Unreadable) -> Date? {
        switch present(key) {
        case nil: return nil
        case .string(let text)?:
            guard let date = InstantFormat.parse(text) else { throw Unreadable() }
            return date
        default: throw Unreadable()
        }
    }

    /// Caller metadata without numbers (JSONValue's decoding rewrites a number's text through
    /// Decimal; those bodies take JSONDecoder) and without repeated keys.
    func metadata(_ key: String) throws(Unreadable) -> JSONValue? {
        guard let value = present(key) else { return nil }
        return try Self.plain(value)
    }

    private static func plain(_ value: ExactJSON) throws(Unreadable) -> JSONValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .number: throw Unreadable()
        case .array(let items): return .array(try items.map { item throws(Unreadable) in try plain(item) })
        case .object(let object):
            var members: [String: JSONValue] = [:]
            for member in object.members {
                guard members.updateValue(try plain(member.value), forKey: member.key) == nil else { throw Unreadable() }
            }
            return .object(members)
        }
    }

    /// Plain integer text within Int64 ("-0", a fraction or an exponent are left to the decoder).
    private static func integer(_ number: ExactNumber) throws(Unreadable) -> Int64 {
        let text = number.text
        guard text != "-0", !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let value = Int64(text) else { throw Unreadable() }
        return value
    }
}

extension HandReadable {
    /// Runs `read`, turning `Unreadable` into nil.
    static func reading(_ read: () throws(HandReadMembers.Unreadable) -> Self) -> Self? {
        do { return try read() } catch { return nil }
    }
}

extension ScopeBody {
    init(handReading fields: HandReadMembers) throws(HandReadMembers.Unreadable) {
        self.init(component: try fields.string("component"), provider: try fields.string("provider"), model: try fields.string("model"),
                  taskType: try fields.string("task_type"), tier: try fields.string("tier"), tags: try fields.strings("tags"),
                  sessionID: try fields.string("session_id"), taskID: try fields.string("task_id"))
    }
}

extension EstimateBody {
    init(handReading fields: HandReadMembers) throws(HandReadMembers.Unreadable) {
        self.init(inputTokens: try fields.int64("input_tokens"), maxOutputTokens: try fields.int64("max_output_tokens"),
                  costUSD: try fields.decimal("cost_usd"))
    }
}

extension UsageBody {
    init(handReading fields: HandReadMembers) throws(HandReadMembers.Unreadable) {
        self.init(inputTokens: try fields.int64("input_tokens"), outputTokens: try fields.int64("output_tokens"),
                  cacheReadTokens: try fields.int64("cache_read_tokens"), cacheWriteTokens: try fields.int64("cache_write_tokens"),
                  reasoningTokens: try fields.int64("reasoning_tokens"), reportedAs: try fields.string("reported_as"))
    }
}

extension AllocateBody: HandReadable {
    init?(handReading fields: HandReadMembers) {
        guard let body = Self.reading({ () throws(HandReadMembers.Unreadable) in
            AllocateBody(scope: try fields.object("scope").map { fields throws(HandReadMembers.Unreadable) in try ScopeBody(handReading: fields) },
                         estimate: try fields.object("estimate").map { fields throws(HandReadMembers.Unreadable) in try EstimateBody(handReading: fields) },
                         ttlSeconds: try fields.int("ttl_seconds"), priority: try fields.string("priority"),
                         requestID: try fields.string("request_id"), metadata: try fields.metadata("metadata"))
        }) else { return nil }
        self = body
    }
}

extension CommitBody: HandReadable {
    init?(handReading fields: HandReadMembers) {
        guard let body = Self.reading({ () throws(HandReadMembers.Unreadable) in
            CommitBody(usage: try fields.object("usage").map { fields throws(HandReadMembers.Unreadable) in try UsageBody(handReading: fields) },
                       provider: try fields.string("provider"), model: try fields.string("model"), costUSD: try fields.decimal("cost_usd"),
                       occurredAt: try fields.instant("occurred_at"), requestID: try fields.string("request_id"),
                       metadata: try fields.metadata("metadata"), batch: try fields.bool("batch"))
        }) else { return nil }
        self = body
    }
}
