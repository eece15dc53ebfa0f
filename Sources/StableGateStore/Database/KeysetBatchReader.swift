/// Reads a keyset-ordered result in batches, several side by side, and hands them over in order:
/// what lets a long export keep both the database and the formatting busy on every core.
///
/// Batches can be read side by side because their bounds are found first, each by a cheap query
/// that skips `batchSize - 1` keys inside the database and returns one (``bound``); a batch is
/// then the key range between two bounds (``read``). Rows added or changed while the reader
/// runs fall into whichever range their key does: none is handed over twice, and none that
/// exists throughout is left out — when a range gained rows after its bounds were found, it is
/// read on from its last row until it is exhausted. It needs no I/O of its own, so its order and
/// edge cases are tested with closures over an array (`KeysetBatchReaderTests`).
struct KeysetBatchReader<Key: Sendable & Equatable, Chunk: Sendable>: Sendable {
    /// One range read and transformed.
    struct Batch: Sendable {
        let chunk: Chunk
        /// How many rows the range held.
        let count: Int
        /// The key of its last row.
        let last: Key?
    }

    /// The most rows one ``read`` returns.
    let batchSize: Int
    /// How many batches are read (and transformed) at once.
    let concurrency: Int
    /// The key of the `batchSize`-th row after a key (after none: from the first row); nil when
    /// fewer rows remain.
    let bound: @Sendable (_ after: Key?) async throws -> Key?
    /// Up to `batchSize` rows after a key (after none: from the first row) and down to a bound
    /// included, when there is one: transformed into a chunk, with their count and last key.
    let read: @Sendable (_ after: Key?, _ through: Key?) async throws -> Batch

    init(
        batchSize: Int, concurrency: Int, bound: @escaping @Sendable (Key?) async throws -> Key?,
        read: @escaping @Sendable (Key?, Key?) async throws -> Batch
    ) {
        precondition(batchSize > 0 && concurrency > 0, "batches and the number read at once are positive")
        self.batchSize = batchSize
        self.concurrency = concurrency
        self.bound = bound
        self.read = read
    }

    /// Hands every non-empty chunk to `body`, in key order, on the caller's task; `body` returns
    /// false to stop. Memory holds at most ``concurrency`` batches ahead of `body`.
    func run(_ body: (Chunk) async throws -> Bool) async throws {
        let read = self.read
        var start: Key?
        var exhausted = false
        var pending: [(task: Task<Batch, any Error>, end: Key?)] = []
        defer { for batch in pending { batch.task.cancel() } }
        func schedule() async throws {
            while !exhausted, pending.count < concurrency {
                let from = start
                let to = try await bound(from)
                pending.append((Task { try await read(from, to) }, to))
                start = to
                exhausted = to == nil
            }
        }
        try await schedule()
        while !pending.isEmpty {
            let (task, end) = pending.removeFirst()
            var batch = try await task.value
            while true {
                if batch.count > 0, try await !body(batch.chunk) { return }
                // A full batch that stopped short of its bound (or had none): rows entered its
                // range after the bounds were found, so read on from its last row.
                guard batch.count == batchSize, let last = batch.last, last != end else { break }
                batch = try await read(last, end)
            }
            try await schedule()
        }
    }
}
