// Bounds how long a request may wait on the database. Without it a request waits for a pool
// connection for as long as the database is away; with it, callers get a 503 and (for enforce
// decisions) fail closed. A write that did reach the database is safe to retry: commits and
// keyed requests return their first answer.
import Foundation
import Hummingbird

struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeout: Duration

    /// Carries the non-Sendable `next` into the child task. Sound because the task group does not
    /// return before its child has finished, so `next` never outlives this call.
    private struct Handler: @unchecked Sendable {
        let call: (Request, Context) async throws -> Response
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let timeout = self.timeout
        return try await withoutActuallyEscaping(next) { escapable in
            let handler = Handler(call: escapable)
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addTask { try await handler.call(request, context) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw APIError.databaseUnavailable("no answer within \(timeout.components.seconds) s: the database is unavailable or overloaded")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }
}
