import Logging
import Synchronization

/// Group commit: many concurrent callers' writes go to the database together.
///
/// While one batch is being written, new items queue up and form the next batch; a lone item
/// is written at once, without waiting for company. Under load this turns thousands of tiny
/// transactions per second into a few hundred larger ones, which matters most on SQLite's
/// single writer, where every statement is a hop to another thread.
public final class GroupCommitter<Item: Sendable, Output: Sendable>: Sendable {
    private struct Pending {
        let item: Item
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var isFlushing = false
    }

    private let maximumBatch: Int
    private let write: @Sendable ([Item]) async throws -> [Output]
    private let state = Mutex(State())

    /// `write` receives 1…`maximumBatch` items and must return one output per item, in order;
    /// if it throws, every caller of that batch gets the error.
    public init(maximumBatch: Int, write: @escaping @Sendable ([Item]) async throws -> [Output]) {
        precondition(maximumBatch > 0)
        self.maximumBatch = maximumBatch
        self.write = write
    }

    /// Queues `item` and returns its output once its batch is written.
    public func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startFlushing = state.withLock { state -> Bool in
                state.queue.append(Pending(item: item, continuation: continuation))
                guard !state.isFlushing else { return false }
                state.isFlushing = true
                return true
            }
            if startFlushing {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                guard !state.queue.isEmpty else {
                    state.isFlushing = false
                    return []
                }
                let count = min(state.queue.count, maximumBatch)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let outputs = try await write(batch.map(\.item))
                precondition(outputs.count == batch.count, "a group commit write must return one output per item")
                for (pending, output) in zip(batch, outputs) { pending.continuation.resume(returning: output) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
