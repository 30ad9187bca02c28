// The scope of allocations this process granted recently, so that a commit (which needs the
// scope to find its windows) usually skips a round trip. A miss reads the allocation instead.
import BudgetCore
import Foundation
import Synchronization

final class AllocationScopeCache: Sendable {
    struct Entry: Sendable {
        var scope: Scope
        var requestID: String?
    }

    private struct State {
        var entries: [UUID: Entry] = [:]
        var order: [UUID] = []
        var head = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    func remember(_ id: UUID, _ entry: Entry) {
        state.withLock { state in
            state.entries[id] = entry
            state.order.append(id)
            // Forget the oldest beyond capacity; compact the queue now and then.
            while state.order.count - state.head > capacity {
                state.entries[state.order[state.head]] = nil
                state.head += 1
            }
            if state.head > capacity {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// Takes the entry out: an allocation is committed once.
    func take(_ id: UUID) -> Entry? {
        state.withLock { $0.entries.removeValue(forKey: id) }
    }
}
