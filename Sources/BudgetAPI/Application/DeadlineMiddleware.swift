// Bounds how long a request may wait on the database. Without it a request waits for a pool
// connection for as long as the database is away; with it, callers get a 503 and (for enforce
// decisions) fail closed. A write that did reach the database is safe to retry: commits and
// keyed requests return their first answer.
//
// One watchdog (`RequestDeadlines`, a service of the application) serves every request: a timer
// per request (a task sleeping in the dispatch timer heap) cost about a tenth of the server's CPU
// on the allocate+commit path. The handler still runs in a child task of its own, because what
// the watchdog cancels must not be the connection's task: a cancelled connection task would end
// its keep-alive connection.
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let deadlines: RequestDeadlines

    /// Carries the non-Sendable `next` into the child task. Sound because the task group does not
    /// return before its child has finished, so `next` never outlives this call.
    private struct Handler: @unchecked Sendable {
        let call: (Request, Context) async throws -> Response
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let deadlines = self.deadlines
        return try await withoutActuallyEscaping(next) { escapable in
            let handler = Handler(call: escapable)
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addTask { try await deadlines.bound { try await handler.call(request, context) } }
                return try await group.next()!
            }
        }
    }
}

/// The deadlines of the requests in flight, and the watchdog that cancels the overdue ones.
///
/// A request's handler registers its task on entry and finishes its ticket on exit; the watchdog
/// wakes every `tick` and cancels the tasks whose deadline has passed. Registration and
/// cancellation happen under one lock, so a task is only ever cancelled while it is registered,
/// i.e. while it is still running.
final class RequestDeadlines: Service, Sendable {
    enum Ending: Equatable { case inTime, expired }

    struct Ticket: Sendable { fileprivate let id: UInt64 }

    /// A running request's task. Sendable because `cancel()` may be called from any thread, and
    /// only while the task is registered, which it is only while it runs.
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let running: RunningTask
        var expired = false
    }

    private struct State {
        var nextID: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    let timeout: Duration
    /// How often the watchdog looks; a request is cancelled between `timeout` and `timeout + tick`.
    let tick: Duration
    private let state = Mutex(State())

    init(timeout: Duration) {
        self.timeout = timeout
        self.tick = min(max(timeout / 20, .milliseconds(10)), .milliseconds(500))
    }

    /// Runs `work` in the current task, which the watchdog cancels when it is overdue; a failure
    /// after that is the deadline's 503. The current task must be the request's own: cancelling it
    /// must end nothing but the request.
    func bound<T>(_ work: () async throws -> T) async throws -> T {
        let ticket = withUnsafeCurrentTask { register($0!) }
        do {
            let result = try await work()
            finish(ticket)
            return result
        } catch {
            // An answer that came in spite of the deadline is kept; a failure after it (the pool
            // wait or the query gave up when cancelled) is the deadline's 503.
            guard finish(ticket) == .expired else { throw error }
            throw APIError.databaseUnavailable("no answer within \(timeout.components.seconds) s: the database is unavailable or overloaded")
        }
    }

    func register(_ task: UnsafeCurrentTask) -> Ticket {
        let deadline = ContinuousClock.now + timeout
        let running = RunningTask(task: task)
        return state.withLock { state in
            state.nextID &+= 1
            state.entries[state.nextID] = Entry(deadline: deadline, running: running)
            return Ticket(id: state.nextID)
        }
    }

    @discardableResult
    func finish(_ ticket: Ticket) -> Ending {
        let entry = state.withLock { $0.entries.removeValue(forKey: ticket.id) }
        return entry?.expired == true ? .expired : .inTime
    }

    /// Cancels the registered tasks whose deadline has passed (each once); returns how many.
    @discardableResult
    func cancelOverdue(now: ContinuousClock.Instant = .now) -> Int {
        state.withLock { state in
            var cancelled = 0
            for (id, entry) in state.entries where !entry.expired && entry.deadline <= now {
                entry.running.task.cancel()
                state.entries[id]?.expired = true
                cancelled += 1
            }
            return cancelled
        }
    }

    func run() async throws {
        // Cancelled at shutdown; requests still running then end with their connections.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.tick)
                self.cancelOverdue()
            }
        }
    }
}
