// A task executor that runs jobs on one NIO event loop: a task that mostly waits for that loop's
// connections (the group-commit leader) then resumes right where their answers arrive, instead of
// queueing behind request handlers in the shared task pool.
import NIOCore

public final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop

    public init(loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
