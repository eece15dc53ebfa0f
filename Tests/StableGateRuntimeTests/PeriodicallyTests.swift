import Logging
import Synchronization
import Testing

@testable import StableGateRuntime

/// The loop every periodic service runs; its timing is checked only where it cannot be flaky
/// (a rest of an hour that must never be waited out).
@Suite("runPeriodically")
struct PeriodicallyTests {
    struct Failure: Error {}

    /// Waits (up to five seconds) until `condition` holds.
    func eventually(_ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while !condition() {
            guard clock.now < deadline else { Issue.record("condition not reached in time"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test("The first pass runs at once, a failing pass does not end the loop, and cancellation ends a rest at once")
    func fixedDelay() async throws {
        let passes = Mutex(0)
        let loop = Task {
            await runPeriodically(every: .milliseconds(10), logger: Logger(label: "test")) {
                let count = passes.withLock { count -> Int in
                    count += 1
                    return count
                }
                if count == 1 { throw Failure() }
                return true
            }
        }
        try await eventually { passes.withLock { $0 } >= 3 }
        loop.cancel()
        await loop.value
    }

    @Test("Resting only when idle: a backlog drains without rests, then the loop rests until cancelled")
    func restWhenIdle() async throws {
        let passes = Mutex(0)
        let loop = Task {
            await runPeriodically(every: .seconds(3600), pacing: .restWhenIdle, logger: Logger(label: "test")) {
                passes.withLock { count -> Bool in
                    count += 1
                    return count < 5
                }
            }
        }
        try await eventually { passes.withLock { $0 } == 5 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(passes.withLock { $0 } == 5, "an idle pass is followed by the full rest")
        loop.cancel()
        await loop.value
    }

    @Test("At a fixed rate, passes longer than the interval follow one another, and cancelling a pass ends the loop")
    func fixedRate() async throws {
        let passes = Mutex(0)
        let loop = Task {
            await runPeriodically(every: .milliseconds(1), pacing: .fixedRate(minimumRest: .milliseconds(1)), logger: Logger(label: "test")) {
                passes.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(5))
                return true
            }
        }
        try await eventually { passes.withLock { $0 } >= 3 }
        loop.cancel()
        await loop.value
    }
}
