import Synchronization

extension Task where Success == Void, Failure == Never {
    /// Waits for the task to finish, at most `limit`: true if it finished, false if the time ran
    /// out first (the task goes on). Awaiting `value` alone cannot be given up: it ignores the
    /// waiter's cancellation, so a task that never finishes would hold its waiter for ever.
    package func finishes(within limit: Duration) async -> Bool {
        let task = self
        return await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            let timer = Task<Void, Never> {
                try? await Task<Never, Never>.sleep(for: limit)
                answer.give(false)
            }
            Task<Void, Never> {
                await task.value
                answer.give(true)
                timer.cancel()
            }
        }
    }
}

/// Resumes a continuation with the first answer given; later answers are dropped.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ answer: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: answer)
    }
}
