@testable import BudgetAPI
import Testing

/// The watchdog behind the per-request deadline (the 503 itself is pinned through HTTP in
/// HealthTests). Each test runs its request in a task of its own, since being cancelled is the
/// behaviour under test.
@Suite("One watchdog cancels the requests that outlive their deadline, each once, and only while they run")
struct RequestDeadlineTests {
    @Test func anOverdueRequestIsCancelledOnceAndEndsExpired() async {
        let deadlines = RequestDeadlines(timeout: .seconds(60))
        let outcome = await Task {
            let ticket = withUnsafeCurrentTask { deadlines.register($0!) }
            let early = deadlines.cancelOverdue(now: .now)
            let cancelledEarly = Task.isCancelled
            let late = deadlines.cancelOverdue(now: .now + .seconds(61))
            let cancelledLate = Task.isCancelled
            let again = deadlines.cancelOverdue(now: .now + .seconds(120))
            return (early, cancelledEarly, late, cancelledLate, again, deadlines.finish(ticket))
        }.value
        #expect(outcome.0 == 0)
        #expect(outcome.1 == false)
        #expect(outcome.2 == 1)
        #expect(outcome.3 == true)
        #expect(outcome.4 == 0)
        #expect(outcome.5 == .expired)
    }

    @Test func aRequestThatFinishedInTimeIsNeverCancelled() async {
        let deadlines = RequestDeadlines(timeout: .milliseconds(1))
        let ending = await Task {
            let ticket = withUnsafeCurrentTask { deadlines.register($0!) }
            return deadlines.finish(ticket)
        }.value
        #expect(ending == .inTime)
        let cancelled = deadlines.cancelOverdue(now: .now + .seconds(10))
        #expect(cancelled == 0)
    }

    @Test func theWatchdogLooksOftenEnoughForShortAndLongDeadlines() {
        #expect(RequestDeadlines(timeout: .seconds(2)).tick == .milliseconds(100))
        #expect(RequestDeadlines(timeout: .seconds(15)).tick == .milliseconds(500))
        #expect(RequestDeadlines(timeout: .milliseconds(50)).tick == .milliseconds(10))
    }
}
