import Synchronization
import Testing

@testable import StableGateStore

/// ``KeysetBatchReader`` over an in-memory table of integer keys, read newest (largest) first as
/// the export reads orders; the table can change between a range's bounds and its read, the
/// moment a database reader cannot be held at.
@Suite("Reading keyset batches side by side, in order")
struct KeysetBatchReaderTests {
    /// A table whose `read` of a chosen range can first change the table, and which counts what
    /// is read at once.
    final class Table: Sendable {
        struct State {
            var keys: Set<Int>
            /// Run once, just before the first read after this key.
            var beforeReading: [Int?: @Sendable (inout Set<Int>) -> Void] = [:]
            var reads = 0
            var reading = 0
            var mostAtOnce = 0
        }
        let state: Mutex<State>

        init(_ keys: some Sequence<Int>) { state = Mutex(State(keys: Set(keys))) }

        /// The keys after `start` (smaller) down to `end` (included), largest first.
        func range(after start: Int?, through end: Int?, in keys: Set<Int>) -> [Int] {
            keys.filter { key in (start.map { key < $0 } ?? true) && (end.map { key >= $0 } ?? true) }.sorted(by: >)
        }

        func reader(batchSize: Int, concurrency: Int) -> KeysetBatchReader<Int, [Int]> {
            KeysetBatchReader(
                batchSize: batchSize, concurrency: concurrency,
                bound: { start in
                    self.state.withLock { state in
                        let keys = self.range(after: start, through: nil, in: state.keys)
                        return keys.count >= batchSize ? keys[batchSize - 1] : nil
                    }
                },
                read: { start, end in
                    let rows = self.state.withLock { state in
                        state.reads += 1
                        state.reading += 1
                        state.mostAtOnce = max(state.mostAtOnce, state.reading)
                        if let change = state.beforeReading.removeValue(forKey: start) { change(&state.keys) }
                        return Array(self.range(after: start, through: end, in: state.keys).prefix(batchSize))
                    }
                    // Let the other batches' tasks run while this one is "reading".
                    try await Task.sleep(for: .milliseconds(2))
                    self.state.withLock { $0.reading -= 1 }
                    return .init(chunk: rows, count: rows.count, last: rows.last)
                })
        }
    }

    static func all(_ reader: KeysetBatchReader<Int, [Int]>) async throws -> [Int] {
        var out: [Int] = []
        try await reader.run { chunk in
            out += chunk
            return true
        }
        return out
    }

    @Test(
        "Every row once, largest key first, whatever the row count against the batch size and however many batches are read at once",
        arguments: [0, 1, 3, 4, 5, 12, 14], [1, 2, 3])
    func everyRowOnce(rows: Int, concurrency: Int) async throws {
        let table = Table((0..<rows).map { $0 * 10 })
        let read = try await Self.all(table.reader(batchSize: 4, concurrency: concurrency))
        #expect(read == (0..<rows).map { $0 * 10 }.sorted(by: >))
        #expect(table.state.withLock(\.mostAtOnce) <= concurrency, "never more batches in memory than asked for")
        // ceil(rows / 4) full or partial ranges, and one empty last read when the rows fill the batches exactly.
        #expect(table.state.withLock(\.reads) == rows / 4 + 1)
    }

    @Test("Rows added to a range after its bounds were found are read on from its last row; none twice, none lost")
    func rowsAddedToABoundedRange() async throws {
        // 200 … 10, batches of 4: the second range is 160 … 130 (after 170, the first's bound).
        let table = Table((1...20).map { $0 * 10 })
        table.state.withLock { state in
            // Just before the second range is read, five rows arrive inside it.
            state.beforeReading[170] = { keys in keys.formUnion([165, 155, 145, 135, 131]) }
            // And as the last range (after 10, the last bound, with no end) is read, five arrive
            // below every bound: more than one batch.
            state.beforeReading[10] = { keys in keys.formUnion([5, 4, 3, 2, 1]) }
        }
        let read = try await Self.all(table.reader(batchSize: 4, concurrency: 3))
        #expect(read == table.state.withLock(\.keys).sorted(by: >))
        #expect(Set(read).count == read.count)
        #expect(read.contains(131) && read.contains(1))
    }

    @Test("Rows that leave a range after its bounds were found are simply not read; the rest follow in order")
    func rowsRemovedFromARange() async throws {
        let table = Table((1...20).map { $0 * 10 })
        table.state.withLock { state in
            state.beforeReading[170] = { keys in keys.subtract([160, 150]) }
        }
        let read = try await Self.all(table.reader(batchSize: 4, concurrency: 2))
        #expect(read == (1...20).map { $0 * 10 }.filter { $0 != 160 && $0 != 150 }.sorted(by: >))
    }

    @Test("A body that says stop gets no more chunks, and no range past those already started is read")
    func stops() async throws {
        let table = Table(1...100)
        var chunks = 0
        try await table.reader(batchSize: 4, concurrency: 2).run { _ in
            chunks += 1
            return chunks < 3
        }
        #expect(chunks == 3)
        #expect(table.state.withLock(\.reads) <= 3 + 2, "at most the two batches ahead were started")
    }
}
