// The calls an LLM request makes, POST /api/v1/allocations, POST /api/v1/allocations/{id}/commit,
// POST /api/v1/check and (for callers that only report) POST /api/v1/usage, answered on the
// connection's event loop, in front of Hummingbird's router.
//
// Why: through the router a call crosses four threads (the HTTP loop reads it, a task-pool thread
// runs the handler in a task and a child task of the deadline, the database loop sends the batch,
// a task-pool thread resumes, the HTTP loop writes) and Hummingbird's async channel machinery on
// the way; on two shared cores those wake-ups and that CPU sit in front of the one database batch
// every call waits for (docs/PERFORMANCE.md, "The hot path on the event loop"). Here a call is read,
// planned and answered on its connection's loop, with one hop to the database loop and back.
//
// The answers are the router's: the same controller functions (AllocationsController.allocate,
// .commit and .check, UsageController.recordOne), the same key check, body limit, deadline, error
// shape and headers. Every other request passes through to the router unchanged, and so do these
// whenever an earlier request on the same connection is still being answered by the router, so
// that answers keep their order.
import BudgetCore
import BudgetStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes

/// Decides and computes the hot path's answers; one per application, shared by every connection.
struct HotPathResponder: Sendable {
    enum Route: Sendable, Equatable {
        case allocate
        case check
        case commit(UUID)
        case usage
    }

    let allocations: AllocationsController
    let usage: UsageController
    let keys: APIKeys?
    let deadlines: RequestDeadlines
    let maxBodySize: Int
    let serverName: String
    let logger: Logger

    /// The route of a request the hot path answers, or nil for one the router answers (any other
    /// method or path, and a commit whose id is not a UUID, which the router refuses in its way).
    static func route(_ head: HTTPRequest) -> Route? {
        guard head.method == .post, var path = head.path?[...] else { return nil }
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        if path == "/api/v1/check" { return .check }
        if path == "/api/v1/usage" { return .usage }
        let prefix = "/api/v1/allocations"
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        if rest.isEmpty { return .allocate }
        let suffix = "/commit"
        guard rest.first == "/", rest.hasSuffix(suffix), rest.count == 1 + 36 + suffix.count,
              let id = UUID(text: String(rest.dropFirst().dropLast(suffix.count))) else { return nil }
        return .commit(id)
    }

    /// The answer to a hot-path request (never throws: failures are the API's error answers).
    /// `body` is nil when it was larger than the router accepts.
    func answer(_ route: Route, headers: HTTPFields, body: ByteBuffer?) async -> (head: HTTPResponse, body: [ByteBuffer]) {
        var logger = self.logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        var response: Response
        do {
            response = try await deadlines.bound {
                if let keys, keys.guardsEveryCall { try keys.admit(headers, as: .caller) }
                guard let body else { throw HTTPError(.contentTooLarge) }
                switch route {
                case .allocate:
                    return try await allocations.allocate(try RequestBody.decode(body), headers: headers, logger: logger)
                case .check:
                    return try await allocations.check(try RequestBody.decode(body), logger: logger)
                case .usage:
                    return try await usage.recordOne(try RequestBody.decode(body), headers: headers, logger: logger)
                case .commit(let id):
                    return try await allocations.commit(allocationID: id, try RequestBody.decode(body), headers: headers, logger: logger)
                }
            }
        } catch {
            do {
                response = try ErrorMiddleware<BudgetRequestContext>.map(error, logger: logger).response()
            } catch {
                logger.error("an error answer could not be written", metadata: ["error": "\(String(reflecting: error))"])
                response = Response(status: .internalServerError)
            }
        }
        response.headers[.server] = serverName
        let collected = CollectedBody()
        do {
            try await response.body.write(collected.writer)
        } catch {
            // The hot path's bodies are buffers already made; writing them into memory cannot fail.
            logger.error("a response body could not be collected", metadata: ["error": "\(String(reflecting: error))"])
            return (HTTPResponse(status: .internalServerError, headerFields: [.server: serverName, .contentLength: "0"]), [])
        }
        return (response.head, collected.buffers)
    }
}

/// The buffers a response body writes, gathered in memory.
private struct CollectedBody {
    final class Buffers: @unchecked Sendable {  // used by one task only
        var list: [ByteBuffer] = []
    }

    struct Writer: ResponseBodyWriter {
        let buffers: Buffers

        mutating func write(_ buffer: ByteBuffer) async throws {
            buffers.list.append(buffer)
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    private let storage = Buffers()
    var writer: Writer { Writer(buffers: storage) }
    var buffers: [ByteBuffer] { storage.list }
}

/// The channel handler, one per connection, after the HTTP codec and before Hummingbird's.
final class HotPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The request being read.
    private enum Reading {
        case between
        /// A hot-path request; its body (nil once it is larger than the limit).
        case collecting(HotPathResponder.Route, HTTPRequest, ByteBuffer?)
        /// A request for the router.
        case passing
    }

    private let responder: HotPathResponder
    private var reading = Reading.between
    /// A hot-path answer is being made or written; what arrives meanwhile waits in `held`.
    private var answering = false
    private var held: [HTTPRequestPart] = []
    /// Requests passed to the router whose answers have not ended.
    private var routed = 0
    /// A read or a quiesce request that waits for the hot-path answer in progress.
    private var readHeld = false
    private var quiesceHeld = false
    private var closeAfterAnswer = false
    private var executor: EventLoopTaskExecutor?
    private var date = HTTPDateCache()

    init(responder: HotPathResponder) {
        self.responder = responder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(loop: context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if answering {
            held.append(part)
        } else {
            take(part, context: context)
        }
    }

    /// Handles one part; true when it went on to the router.
    @discardableResult
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        func pass() -> Bool {
            context.fireChannelRead(wrapInboundOut(part))
            return true
        }
        switch (reading, part) {
        case (.between, .head(let head)):
            if routed == 0, let route = HotPathResponder.route(head) {
                reading = .collecting(route, head, context.channel.allocator.buffer(capacity: 0))
            } else {
                routed += 1
                reading = .passing
                return pass()
            }
        case (.collecting(let route, let head, let body), .body(let chunk)):
            if var body, body.readableBytes + chunk.readableBytes <= responder.maxBodySize {
                var chunk = chunk
                body.writeBuffer(&chunk)
                reading = .collecting(route, head, body)
            } else {
                reading = .collecting(route, head, nil)
            }
        case (.collecting(let route, let head, let body), .end):
            reading = .between
            answer(route, head: head, body: body, context: context)
        case (.passing, .end):
            reading = .between
            return pass()
        default:
            // The rest of a routed request, or parts out of order, which the router's reader
            // refuses as it would without this handler.
            return pass()
        }
        return false
    }

    private func answer(_ route: HotPathResponder.Route, head: HTTPRequest, body: ByteBuffer?, context: ChannelHandlerContext) {
        answering = true
        closeAfterAnswer = head.headerFields[.connection] == "close"
        let responder = self.responder
        let target = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        Task(executorPreference: executor) {
            let answer = await responder.answer(route, headers: head.headerFields, body: body)
            // The task runs on the connection's loop (its executor preference); were it not, the
            // answer is written there all the same.
            if target.eventLoop.inEventLoop {
                target.value.handler.write(answer, context: target.value.context)
            } else {
                target.eventLoop.execute { target.value.handler.write(answer, context: target.value.context) }
            }
        }
    }

    private func write(_ answer: (head: HTTPResponse, body: [ByteBuffer]), context: ChannelHandlerContext) {
        var head = answer.head
        head.headerFields[.date] = date.now()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        for buffer in answer.body {
            context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        }
        if closeAfterAnswer {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        answering = false
        // What arrived meanwhile, in order, until it starts another hot-path answer. What goes to
        // the router is delivered at the read-complete that follows (the router's channel reader
        // hands reads on in batches, at each read-complete).
        var passed = false
        while !answering, !held.isEmpty {
            passed = take(held.removeFirst(), context: context) || passed
        }
        if passed { context.fireChannelReadComplete() }
        guard !answering else { return }
        if quiesceHeld {
            quiesceHeld = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routed = max(0, routed - 1) }
        context.write(data, promise: promise)
    }

    /// No more reading from the socket while an answer is made: pipelined requests wait in the socket.
    func read(context: ChannelHandlerContext) {
        if answering {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// At shutdown the router closes an idle connection at once; one with a hot-path request in
    /// progress is idle to the router, so the request is let finish first.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, answering || isCollecting {
            quiesceHeld = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var isCollecting: Bool {
        if case .collecting = reading { return true }
        return false
    }
}

/// The Date header's text, made once a second.
private struct HTTPDateCache {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var seconds = time(nil)
        guard seconds != second else { return text }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        second = seconds
        return text
    }
}
