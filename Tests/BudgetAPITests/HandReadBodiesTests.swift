@testable import BudgetAPI
import Foundation
import Testing

/// The hot path reads allocate, check and commit bodies by hand and leaves every other body to
/// JSONDecoder. The hand reading must never accept a body JSONDecoder refuses, nor read one
/// differently: these tests hold it to JSONDecoder on typical bodies, edge cases and random
/// mutations of them.
@Suite("Allocate and commit bodies read by hand: the plain ones are, and only ever as JSONDecoder reads them")
struct HandReadBodiesTests {
    static let allocateBodies = [
        #"{"scope":{"component":"bench-1","provider":"benchprov","model":"bench-model","task_type":"bench"},"estimate":{"input_tokens":1000,"max_output_tokens":500},"ttl_seconds":60}"#,
        #"{"scope":{"component":"ergon","provider":"Anthropic ","model":"claude-sonnet-4-5","tags":["nightly","ci"],"session_id":"s-1","task_id":"t\/2"},"estimate":{"cost_usd":"0.0125"},"priority":"critical","request_id":"r\"1\"","metadata":{"run":"a","nested":{"ok":true,"list":[null,"x"]}}}"#,
        #" { "estimate" : { "cost_usd" : 3 } , "scope" : { "tier" : null } , "metadata" : null , "extra" : [1, 2.5e3, {"x": "y"}] } "#,
        #"{"scope":{},"estimate":{"input_tokens":9223372036854775807,"max_output_tokens":0,"cost_usd":" 1.50 "}}"#,
    ]

    static let commitBodies = [
        #"{"usage":{"input_tokens":900,"output_tokens":400}}"#,
        #"{"usage":{"input_tokens":10,"output_tokens":20,"cache_read_tokens":3,"cache_write_tokens":4,"reasoning_tokens":5,"reported_as":"openai"},"provider":"openai","model":"gpt-5","cost_usd":"0.000125","occurred_at":"2026-11-21T10:00:00.125Z","request_id":"req\n7","metadata":{"tool":"grep"},"batch":true}"#,
        #"{"usage":{"input_tokens":1},"cost_usd":12,"occurred_at":"2026-11-21 10:00:00+01:00","metadata":{}}"#,
    ]

    /// Bodies the hand reading leaves to JSONDecoder, whatever JSONDecoder then makes of them.
    static let leftToTheDecoder = [
        #"{"scope":{"component":"a","component":"b"},"estimate":{"cost_usd":"1"}}"#,
        #"{"scope":{"component":"\u00e9"},"estimate":{"cost_usd":"1"}}"#,
        #"{"scope":{"component":"a"},"estimate":{"input_tokens":1e3}}"#,
        #"{"scope":{"component":"a"},"estimate":{"input_tokens":10.0}}"#,
        #"{"scope":{"component":"a"},"estimate":{"input_tokens":-0}}"#,
        #"{"scope":{"component":"a"},"estimate":{"input_tokens":9223372036854775808}}"#,
        #"{"scope":{"component":"a"},"estimate":{"cost_usd":"1"},"metadata":{"n":1}}"#,
        #"{"scope":{"component":7},"estimate":{"cost_usd":"1"}}"#,
        #"{"scope":"ergon","estimate":{"cost_usd":"1"}}"#,
        #"{"scope":{"component":"a"},"estimate":{"cost_usd":0.5}}"#,
        #"{"scope":{"component":"a"},"estimate":{"cost_usd":"12abc"}}"#,
        #"{"scope":{"component":"a"},"estimate":{"cost_usd":"1"}} x"#,
        #"["scope"]"#,
        "\u{FEFF}{\"scope\":{},\"estimate\":{\"cost_usd\":\"1\"}}",
    ]

    static func decoded<Body: Decodable>(_ type: Body.Type, _ text: String) -> Body? {
        try? BudgetJSON.decoder.decode(Body.self, from: Data(text.utf8))
    }

    static func handRead<Body: HandReadable>(_ type: Body.Type, _ text: String) -> Body? {
        Array(text.utf8).withUnsafeBytes { bytes in HandReadMembers.of(bytes).flatMap { Body(handReading: $0) } }
    }

    /// Either the hand reading leaves the text to the decoder, or both read the same body.
    static func agree<Body: HandReadable & Equatable>(_ type: Body.Type, _ text: String) -> Bool {
        guard let byHand = handRead(Body.self, text) else { return true }
        return decoded(Body.self, text) == byHand
    }

    @Test(arguments: allocateBodies)
    func plainAllocateBodiesAreReadByHandAsTheDecoderReadsThem(text: String) throws {
        let byHand = try #require(Self.handRead(AllocateBody.self, text))
        #expect(Self.decoded(AllocateBody.self, text) == byHand)
    }

    @Test(arguments: commitBodies)
    func plainCommitBodiesAreReadByHandAsTheDecoderReadsThem(text: String) throws {
        let byHand = try #require(Self.handRead(CommitBody.self, text))
        #expect(Self.decoded(CommitBody.self, text) == byHand)
    }

    @Test(arguments: leftToTheDecoder)
    func unusualBodiesAreLeftToTheDecoder(text: String) {
        #expect(Self.handRead(AllocateBody.self, text) == nil)
    }

    /// Yields now and then: this suite shares the task pool with the live servers of other suites.
    @Test func mutatedBodiesAreNeverReadDifferentlyFromTheDecoder() async {
        var generator = SystemRandomNumberGenerator()
        let pieces = Array(#"{}[],:" \-.0159eE+tfnul"#.utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        var readByHand = 0
        for (index, seed) in (Self.allocateBodies + Self.commitBodies).enumerated() {
            let isAllocate = index < Self.allocateBodies.count
            for round in 0..<1_500 {
                if round % 50 == 0 { await Task.yield() }
                var bytes = Array(seed.utf8)
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let position = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes.remove(at: position)
                    case 1: bytes.insert(pieces.randomElement(using: &generator)!, at: position)
                    default: bytes[position] = pieces.randomElement(using: &generator)!
                    }
                    if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
                }
                let text = String(decoding: bytes, as: UTF8.self)
                let agrees = isAllocate ? Self.agree(AllocateBody.self, text) : Self.agree(CommitBody.self, text)
                #expect(agrees, "\(text)")
                if isAllocate ? Self.handRead(AllocateBody.self, text) != nil : Self.handRead(CommitBody.self, text) != nil { readByHand += 1 }
            }
        }
        // The mutations must leave many bodies readable, or the test would prove nothing.
        #expect(readByHand > 1_000)
    }
}
