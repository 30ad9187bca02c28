// Ending PostgreSQL sessions under waiting calls, as a restart or an administrator would, for the
// tests of what Budget does then.
import Foundation
import PostgresNIO
import Synchronization

extension PostgresClient {
    /// The number of sessions of this database waiting for a lock while running a statement
    /// that contains `statement`.
    func sessionsWaitingForALock(running statement: String) async throws -> Int {
        for try await count in try await query("""
            SELECT count(*)::int FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND position(\(statement) in query) > 0
            """).decode(Int.self) {
            return count
        }
        return 0
    }

    /// Waits (at most 10 s) until `count` sessions wait for a lock running `statement`.
    public func waitForSessionsWaitingForALock(running statement: String, count: Int = 1) async throws {
        for _ in 0..<200 {
            if try await sessionsWaitingForALock(running: statement) >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw EndedSessionsError(description: "no \(count) sessions came to wait for a lock running \(statement)")
    }

    /// Ends the sessions waiting for a lock running `statement` (`pg_terminate_backend`) and
    /// waits until they are gone.
    public func endSessionsWaitingForALock(running statement: String) async throws {
        for try await _ in try await query("""
            SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND position(\(statement) in query) > 0
            """) {}
    }
}

public struct EndedSessionsError: Error, CustomStringConvertible {
    public var description: String
}

/// A call that had no answer by its deadline.
public struct NoAnswer: Error, CustomStringConvertible {
    public var description: String { "no answer by the deadline: the call hangs" }
}

/// The task's result, or `NoAnswer` when it has none by `deadline`: a call that hangs then fails
/// its test instead of holding the whole run up.
public func answer<T: Sendable>(of task: Task<T, any Error>, by deadline: ContinuousClock.Instant) async -> Result<T, any Error> {
    let once = ResumedOnce<Result<T, any Error>>()
    return await withCheckedContinuation { continuation in
        once.continuation.withLock { $0 = continuation }
        let timer = Task {
            try await Task.sleep(until: deadline)
            once.resume(.failure(NoAnswer()))
        }
        Task {
            once.resume(await task.result)
            timer.cancel()
        }
    }
}

/// A continuation resumed by whichever comes first; later results are dropped.
private final class ResumedOnce<Value: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<Value, Never>?>(nil)
    func resume(_ value: Value) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
