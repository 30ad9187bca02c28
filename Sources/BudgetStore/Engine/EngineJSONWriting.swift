// The hot path's JSON for the engine's SQL functions, written by hand: the same members as
// EngineJSON's Foundation encoder writes (optionals left out when nil, UUIDs in upper case,
// instants as InstantFormat strings), in a fraction of the time. Pinned to the encoder's output
// by EngineJSONWritingTests (Tests/BudgetStoreTests/EngineRunTests.swift).
import BudgetCore
import Foundation

protocol EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) throws
}

/// Appends the members of one JSON object.
struct JSONMembers {
    private(set) var bytes: [UInt8] = []
    private var first = true

    /// Writes `value` as an object at the end of `out`, in `out`'s own storage: nested objects
    /// and arrays of objects need no buffers of their own.
    static func append(_ value: some EngineJSONWritable, to out: inout [UInt8]) throws {
        var members = JSONMembers()
        swap(&members.bytes, &out)
        defer { swap(&members.bytes, &out) }
        try value.writeJSON(into: &members)
        members.close()
    }

    /// Writes `values` as an array of objects at the end of `out`.
    static func append(_ values: [some EngineJSONWritable], to out: inout [UInt8]) throws {
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            try append(value, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private mutating func key(_ name: StaticString) {
        bytes.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONText.write(value, into: &bytes)
    }

    mutating func uuid(_ name: StaticString, _ value: UUID?) {
        guard let value else { return }
        key(name)
        bytes.append(UInt8(ascii: "\""))
        value.appendUppercasedText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func instant(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        string(name, InstantFormat.string(value))
    }

    mutating func integer(_ name: StaticString, _ value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func strings(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.write(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func value(_ name: StaticString, _ value: JSONValue) throws {
        key(name)
        try value.write(into: &bytes)
    }

    mutating func object(_ name: StaticString, _ value: (some EngineJSONWritable)?) throws {
        guard let value else { return }
        key(name)
        try Self.append(value, to: &bytes)
    }

    mutating func objects(_ name: StaticString, _ values: [some EngineJSONWritable]?) throws {
        guard let values else { return }
        key(name)
        try Self.append(values, to: &bytes)
    }

    /// Closes the object.
    private mutating func close() {
        if first { bytes.append(UInt8(ascii: "{")) }
        bytes.append(UInt8(ascii: "}"))
    }
}

extension EngineJSON {
    /// Room for a typical allocation or ledger record, so that writing one rarely reallocates.
    private static let typicalSize = 1024

    static func bytes(_ value: some EngineJSONWritable) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(typicalSize)
        try JSONMembers.append(value, to: &out)
        return out
    }

    static func bytes(_ values: [some EngineJSONWritable]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(typicalSize)
        try JSONMembers.append(values, to: &out)
        return out
    }

    static func text(_ value: some EngineJSONWritable) throws -> String {
        String(decoding: try bytes(value), as: UTF8.self)
    }

    static func text(_ values: [some EngineJSONWritable]) throws -> String {
        String(decoding: try bytes(values), as: UTF8.self)
    }
}

extension Scope: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) {
        out.string("component", component)
        out.string("provider", provider)
        out.string("model", model)
        out.string("task_type", taskType)
        out.string("tier", tier)
        out.strings("tags", tags)
        out.string("session_id", sessionID)
        out.string("task_id", taskID)
    }
}

extension ScopeFilter: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) {
        out.string("component", component)
        out.string("provider", provider)
        out.string("model", model)
        out.string("task_type", taskType)
        out.string("tier", tier)
        out.string("tag", tag)
    }
}

extension TokenUsage: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) {
        out.integer("input_tokens", input)
        out.integer("output_tokens", output)
        out.integer("cache_read_tokens", cacheRead)
        out.integer("cache_write_tokens", cacheWrite)
        out.integer("reasoning_tokens", reasoning)
    }
}

extension WindowSpec: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) throws {
        out.uuid("limit_id", limitID)
        out.integer("limit_version", Int64(limitVersion))
        out.uuid("budget_id", budgetID)
        out.string("budget_name", budgetName)
        try out.object("scope", scope)
        out.string("period", period)
        out.string("metric", metric)
        out.string("policy", policy)
        out.string("warn_at", warnAt)
        out.strings("thresholds", thresholds)
        out.string("amount", amount)
        out.string("window_key", windowKey)
        out.instant("window_start", windowStart)
        out.instant("window_end", windowEnd)
        out.string("request", request)
        out.string("spent", spent)
        out.string("reserved", reserved)
    }
}

extension AllocationRow: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) throws {
        out.uuid("id", id)
        try out.object("scope", scope)
        out.string("priority", priority.rawValue)
        out.string("reserved_cost_usd", reservedCostUSD)
        out.integer("reserved_tokens", reservedTokens)
        out.uuid("price_id", priceID)
        out.instant("expires_at", expiresAt)
        out.string("request_id", requestID)
        try out.value("metadata", metadata)
        out.bool("bypass", bypass)
    }
}

extension LedgerRecord: EngineJSONWritable {
    func writeJSON(into out: inout JSONMembers) throws {
        out.uuid("id", id)
        out.instant("occurred_at", occurredAt)
        try out.object("scope", scope)
        try out.object("usage", usage)
        out.string("cost_usd", costUSD)
        out.string("pricing_status", pricingStatus.rawValue)
        out.uuid("price_id", priceID)
        out.uuid("allocation_id", allocationID)
        out.string("request_id", requestID)
        out.string("origin", origin)
        try out.value("metadata", metadata)
        try out.objects("windows", windows)
        out.uuid("previous_price_id", previousPriceID)
        out.bool("batch", batch)
    }
}
