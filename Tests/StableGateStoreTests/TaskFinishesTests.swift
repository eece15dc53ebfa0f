import StableGateStore
import Testing

@Suite("Waiting for a task, at most so long")
struct TaskFinishesTests {
    @Test("A task that ends in time is reported finished; one that does not is given up on at the limit and goes on")
    func boundedWait() async throws {
        let quick = Task<Void, Never> { try? await Task.sleep(for: .milliseconds(20)) }
        #expect(await quick.finishes(within: .seconds(30)))

        // A task that cannot end until the gate opens: only the limit ends the wait for it.
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let stuck = Task<Void, Never> {
            for await _ in gate {}
        }
        let clock = ContinuousClock()
        let started = clock.now
        #expect(await stuck.finishes(within: .milliseconds(200)) == false)
        #expect(clock.now - started >= .milliseconds(200), "not given up before the limit")
        // It was left running, not cancelled: once the gate opens it ends on its own.
        #expect(!stuck.isCancelled)
        opener.finish()
        #expect(await stuck.finishes(within: .seconds(30)))
    }
}
