import Logging
import Synchronization
import Testing

@testable import StableGateRuntime

/// The loop every periodic service runs. Nothing here waits on a deadline (the suites share a
/// busy machine): each pass reports itself on a stream the test reads, and a broken loop shows
/// as a test that exceeds its time limit.
@Suite("runPeriodically", .timeLimit(.minutes(1)))
struct PeriodicallyTests {
    struct Failure: Error {}

    /// Counts passes and lets the test wait for the n-th.
    final class Passes: Sendable {
        let count = Mutex(0)
        let stream: AsyncStream<Int>
        let continuation: AsyncStream<Int>.Continuation

        init() {
            (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        }

        /// Records a pass; returns its number (1 for the first).
        func record() -> Int {
            let number = count.withLock { count -> Int in
                count += 1
                return count
            }
            continuation.yield(number)
            return number
        }

        func wait(for number: Int) async {
            for await seen in stream where seen >= number { return }
        }
    }

    @Test("The first pass runs at once, a failing pass does not end the loop, and cancellation ends a rest at once")
    func fixedDelay() async throws {
        let passes = Passes()
        let loop = Task {
            await runPeriodically(every: .milliseconds(10), logger: Logger(label: "test")) {
                if passes.record() == 1 { throw Failure() }
                return true
            }
        }
        await passes.wait(for: 3)
        loop.cancel()
        await loop.value
    }

    @Test("Resting only when idle: a backlog drains without rests, then the loop rests (an hour here) until cancelled")
    func restWhenIdle() async throws {
        let passes = Passes()
        let loop = Task {
            await runPeriodically(every: .seconds(3600), pacing: .restWhenIdle, logger: Logger(label: "test")) {
                passes.record() < 5
            }
        }
        await passes.wait(for: 5)
        try await Task.sleep(for: .milliseconds(50))
        #expect(passes.count.withLock { $0 } == 5, "an idle pass is followed by the full rest")
        loop.cancel()
        await loop.value
    }

    @Test("At a fixed rate, passes longer than the interval follow one another, and cancelling a pass ends the loop")
    func fixedRate() async throws {
        let passes = Passes()
        let loop = Task {
            await runPeriodically(every: .milliseconds(1), pacing: .fixedRate(minimumRest: .milliseconds(1)), logger: Logger(label: "test")) {
                _ = passes.record()
                try await Task.sleep(for: .milliseconds(5))
                return true
            }
        }
        await passes.wait(for: 3)
        loop.cancel()
        await loop.value
    }
}
