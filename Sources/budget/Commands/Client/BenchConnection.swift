// The bench's callers: one keep-alive HTTP/1.1 connection each, driven on its NIO event loop.
//
// The load generator shares the machine's cores with the server and PostgreSQL, so it must cost
// as little as it can: requests are pre-rendered bytes (only the allocation id is spliced into a
// commit), answers are read with a minimal HTTP/1.1 reader (status line, Content-Length, body),
// and a caller's whole loop runs in one channel handler, with no task or future per request.
// AsyncHTTPClient cost about a quarter of a millisecond of CPU per pair here; this costs a
// fraction of that (docs/PERFORMANCE.md).
import Foundation
import NIOCore
import NIOPosix

/// The requests a caller sends, rendered once. Each is a head and a tail: with
/// `--idempotency-keys`, an `Idempotency-Key` header line goes between them.
struct BenchRequests: Sendable {
    var allocateHead: ByteBuffer
    var allocateTail: ByteBuffer
    var check: ByteBuffer
    /// The commit's request line up to the allocation id, the rest of its head, and its tail.
    var commitHead: ByteBuffer
    var commitLine: ByteBuffer
    var commitTail: ByteBuffer
    /// Keys start with this (unique to the run), then the caller's number and the pair's; nil: no keys.
    var keyPrefix: String?

    /// `apiKey`: sent as `Authorization: Bearer` in every request (a server with BUDGET_API_KEY).
    init(host: String, fixture: BenchFixture, idempotencyKeys: Bool = false, apiKey: String? = nil) {
        func tail(_ body: Data) -> ByteBuffer {
            ByteBuffer(string: "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n" + String(decoding: body, as: UTF8.self))
        }
        let hostAndKey = "Host: \(host)\r\n" + (apiKey.map { "Authorization: Bearer \($0)\r\n" } ?? "")
        allocateHead = ByteBuffer(string: "POST /api/v1/allocations HTTP/1.1\r\n" + hostAndKey)
        allocateTail = tail(fixture.allocateBody)
        var check = ByteBuffer(string: "POST /api/v1/check HTTP/1.1\r\n" + hostAndKey)
        var checkTail = tail(fixture.allocateBody)
        check.writeBuffer(&checkTail)
        self.check = check
        commitHead = ByteBuffer(string: "POST /api/v1/allocations/")
        commitLine = ByteBuffer(string: "/commit HTTP/1.1\r\n" + hostAndKey)
        commitTail = tail(fixture.commitBody)
        keyPrefix = idempotencyKeys ? fixture.component : nil
    }
}

/// When a caller starts its pairs (or checks), and which ones count.
struct BenchSchedule: Sendable {
    var measureFrom: NIODeadline
    /// Keep every measured call's start and latency (`budget bench --latencies`), not only the figures.
    var keepCalls = false
    var stopAt: NIODeadline
    /// With an offered rate: the time between this caller's starts, and its first start. Latency
    /// is then measured from when a pair was due, not from when it could be sent, so a server
    /// that falls behind shows it (no coordinated omission). Nil: the next starts when the last ends.
    var interval: TimeAmount?
    var firstStart: NIODeadline
    var requestTimeout: TimeAmount
}

/// One caller: allocate then commit (or check), again and again, on one connection.
final class BenchCaller: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Step { case idle, allocate, commit, check }

    private let requests: BenchRequests
    /// This caller's part of its keys ("<run>-<caller>-"), when the requests carry keys.
    private let keyStem: String?
    private var pairNumber = 0
    private let schedule: BenchSchedule
    private let checkOnly: Bool
    private let done: EventLoopPromise<BenchSamples>
    private var samples = BenchSamples()
    private var received: ByteBuffer?
    private var step = Step.idle
    /// When the current pair (or check) was due, and when its current request was sent.
    private var due = NIODeadline.uptimeNanoseconds(0)
    private var sent = NIODeadline.uptimeNanoseconds(0)
    private var nextDue: NIODeadline
    private var finished = false
    private var watchdog: RepeatedTask?

    init(requests: BenchRequests, caller: Int, schedule: BenchSchedule, checkOnly: Bool, done: EventLoopPromise<BenchSamples>) {
        self.requests = requests
        self.keyStem = requests.keyPrefix.map { "\($0)-\(caller)-" }
        self.schedule = schedule
        self.checkOnly = checkOnly
        self.done = done
        self.nextDue = schedule.firstStart
    }

    func channelActive(context: ChannelHandlerContext) {
        let timeout = schedule.requestTimeout
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let (caller, context) = loopBound.value
            if caller.step != .idle, NIODeadline.now() - caller.sent > timeout {
                caller.fail(context: context, reason: "timeout")
            }
        }
        startNext(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
        do {
            guard let answer = try HTTPAnswerReader.next(from: &received!) else { return }
            answered(context: context, status: answer.status, body: answer.body)
        } catch {
            fail(context: context, reason: "unreadable")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { fail(context: context, reason: "unreachable") }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, reason: "unreachable")
    }

    private var counted: Bool { due >= schedule.measureFrom }

    private func startNext(context: ChannelHandlerContext) {
        step = .idle
        let now = NIODeadline.now()
        if let interval = schedule.interval {
            due = nextDue
            nextDue = nextDue + interval
        } else {
            // Connections open during the moment before the first start; none starts before it.
            due = max(now, schedule.firstStart)
        }
        if due >= schedule.stopAt || now >= schedule.stopAt { return finish(context: context) }
        if due > now {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: due) {
                let (caller, context) = loopBound.value
                caller.send(context: context, caller.checkOnly ? .check : .allocate)
            }
        } else {
            send(context: context, checkOnly ? .check : .allocate)
        }
    }

    private func send(context: ChannelHandlerContext, _ next: Step, allocationID: ByteBuffer? = nil) {
        // A start scheduled before the connection ended finds the caller finished.
        guard !finished else { return }
        step = next
        sent = .now()
        switch next {
        case .allocate:
            pairNumber += 1
            context.write(wrapOutboundOut(requests.allocateHead), promise: nil)
            writeKey("a", context: context)
            context.writeAndFlush(wrapOutboundOut(requests.allocateTail), promise: nil)
        case .check: context.writeAndFlush(wrapOutboundOut(requests.check), promise: nil)
        case .commit:
            context.write(wrapOutboundOut(requests.commitHead), promise: nil)
            context.write(wrapOutboundOut(allocationID!), promise: nil)
            context.write(wrapOutboundOut(requests.commitLine), promise: nil)
            writeKey("c", context: context)
            context.writeAndFlush(wrapOutboundOut(requests.commitTail), promise: nil)
        case .idle: break
        }
    }

    /// The request's `Idempotency-Key` header line, unique to this pair and call, when keys are on.
    private func writeKey(_ call: String, context: ChannelHandlerContext) {
        guard let keyStem else { return }
        context.write(wrapOutboundOut(ByteBuffer(string: "Idempotency-Key: \(keyStem)\(pairNumber)\(call)\r\n")), promise: nil)
    }

    private func answered(context: ChannelHandlerContext, status: Int, body: ByteBuffer) {
        let now = NIODeadline.now()
        let succeeded = (200..<300).contains(status)
        switch step {
        case .check:
            if succeeded {
                record(\.check, now - due)
                keep(.check, from: due, to: now)
            } else {
                error("check \(status)")
            }
            startNext(context: context)
        case .allocate:
            guard succeeded else {
                error("allocate \(status)")
                return startNext(context: context)
            }
            guard let id = HTTPAnswerReader.allocationID(in: body) else {
                error("allocate unreadable")
                return startNext(context: context)
            }
            record(\.allocate, now - due)
            keep(.allocate, from: due, to: now)
            send(context: context, .commit, allocationID: id)
        case .commit:
            if succeeded {
                record(\.commit, now - sent)
                record(\.pair, now - due)
                keep(.commit, from: sent, to: now)
            } else {
                error("commit \(status)")
            }
            startNext(context: context)
        case .idle:
            fail(context: context, reason: "unreadable")
        }
    }

    private func record(_ kind: WritableKeyPath<BenchSamples, [Duration]>, _ elapsed: TimeAmount) {
        if counted { samples[keyPath: kind].append(.nanoseconds(elapsed.nanoseconds)) }
    }

    private func keep(_ kind: BenchCall.Kind, from start: NIODeadline, to end: NIODeadline) {
        if counted && schedule.keepCalls {
            samples.calls.append(BenchCall(kind: kind, start: start - schedule.measureFrom, latency: end - start))
        }
    }

    private func error(_ key: String) {
        if counted { samples.errors[key, default: 0] += 1 }
    }

    /// The connection is unusable: the request in flight is counted as failed and the caller stops.
    private func fail(context: ChannelHandlerContext, reason: String) {
        guard !finished else { return }
        if step != .idle { samples.errors["\(step) \(reason)", default: 0] += 1 }
        finish(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        watchdog?.cancel()
        context.close(promise: nil)
        done.succeed(samples)
    }
}

/// Reads HTTP/1.1 answers with a Content-Length body (what Budget sends) from the bytes received.
enum HTTPAnswerReader {
    struct Unreadable: Error {}

    /// The next complete answer, consumed from `buffer`; nil while it is incomplete.
    static func next(from buffer: inout ByteBuffer) throws -> (status: Int, body: ByteBuffer)? {
        let parsed: (status: Int, headerLength: Int, bodyLength: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            guard let end = headerEnd(bytes) else { return nil }
            // "HTTP/1.1 201 Created\r\n…"
            guard end >= 12, bytes[8] == UInt8(ascii: " ") else { throw Unreadable() }
            var status = 0
            for index in 9..<12 {
                let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { throw Unreadable() }
                status = status * 10 + digit
            }
            guard let length = contentLength(bytes[..<end]) else { throw Unreadable() }
            return (status, end + 4, length)
        }
        guard let parsed, buffer.readableBytes >= parsed.headerLength + parsed.bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.headerLength)
        let body = buffer.readSlice(length: parsed.bodyLength)!
        buffer.discardReadBytes()
        return (parsed.status, body)
    }

    /// The `id` of an allocation answer (`{"id":"<uuid>",…}`), as the bytes to splice into a path.
    static func allocationID(in body: ByteBuffer) -> ByteBuffer? {
        let marker = Array(#""id":""#.utf8)
        return body.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            guard let start = firstIndex(of: marker, in: bytes[...]) else { return nil }
            let from = start + marker.count
            guard from + 37 <= bytes.count, bytes[from + 36] == UInt8(ascii: "\"") else { return nil }
            return ByteBuffer(bytes: bytes[from..<(from + 36)])
        }
    }

    private static func headerEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        firstIndex(of: Array("\r\n\r\n".utf8), in: bytes[...])
    }

    /// The Content-Length header's value (names compare case-insensitively).
    private static func contentLength(_ head: Slice<UnsafeRawBufferPointer>) -> Int? {
        let name = Array("content-length:".utf8)
        var lineStart = head.startIndex
        while lineStart < head.endIndex {
            let lineEnd = head[lineStart...].firstIndex(of: UInt8(ascii: "\r")) ?? head.endIndex
            let line = head[lineStart..<lineEnd]
            // `| 0x20` lower-cases ASCII letters and leaves '-' and ':' as they are.
            if line.count > name.count,
               zip(line.prefix(name.count), name).allSatisfy({ ($0 | 0x20) == $1 }) {
                var value = 0
                var digits = 0
                for byte in line.dropFirst(name.count) where byte != UInt8(ascii: " ") {
                    let digit = Int(byte) - Int(UInt8(ascii: "0"))
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            lineStart = lineEnd + 2
        }
        return nil
    }

    private static func firstIndex(of needle: [UInt8], in haystack: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
