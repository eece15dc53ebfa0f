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

    /// Runs the loop in a task, recording each pass before handing its number to `pass`; once
    /// `passes` passes have run, runs `meanwhile`, then cancels the loop and waits for it to end.
    func runLoop(
        every interval: Duration, pacing: PeriodicPacing = .fixedDelay, until passes: Int, meanwhile: (Passes) async throws -> Void = { _ in },
        _ pass: @escaping @Sendable (Int) async throws -> Bool
    ) async throws {
        let recorded = Passes()
        let loop = Task {
            await runPeriodically(every: interval, pacing: pacing, logger: Logger(label: "test")) { try await pass(recorded.record()) }
        }
        await recorded.wait(for: passes)
        try await meanwhile(recorded)
        loop.cancel()
        await loop.value
    }

    @Test("The first pass runs at once, a failing pass does not end the loop, and cancellation ends a rest at once")
    func fixedDelay() async throws {
        try await runLoop(every: .milliseconds(10), until: 3) { number in
            if number == 1 { throw Failure() }
            return true
        }
    }

    @Test("Resting only when idle: a backlog drains without rests, then the loop rests (an hour here) until cancelled")
    func restWhenIdle() async throws {
        try await runLoop(
            every: .seconds(3600), pacing: .restWhenIdle, until: 5,
            meanwhile: { passes in
                try await Task.sleep(for: .milliseconds(50))
                #expect(passes.count.withLock { $0 } == 5, "an idle pass is followed by the full rest")
            }
        ) { number in number < 5 }
    }

    @Test("At a fixed rate, passes longer than the interval follow one another, and cancelling a pass ends the loop")
    func fixedRate() async throws {
        try await runLoop(every: .milliseconds(1), pacing: .fixedRate(minimumRest: .milliseconds(1)), until: 3) { _ in
            try await Task.sleep(for: .milliseconds(5))
            return true
        }
    }
}
