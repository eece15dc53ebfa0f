import Logging
import ServiceLifecycle

/// How a periodic loop rests between passes.
public enum PeriodicPacing: Sendable {
    /// The interval after every pass, however long the pass took.
    case fixedDelay
    /// The interval only after a pass that found nothing to do: a backlog drains at full speed,
    /// an idle instance polls gently.
    case restWhenIdle
    /// Passes start an interval apart: a pass that took part of it is followed by only the
    /// rest (never less than `minimumRest`), so the loop keeps its rate however long passes take.
    case fixedRate(minimumRest: Duration)
}

/// Runs `pass` at once and then again every `interval` (as `pacing` says) until graceful
/// shutdown begins or the task is cancelled; a rest is cut short the moment shutdown begins.
///
/// `pass` returns whether it found work (only ``PeriodicPacing/restWhenIdle`` asks). An error
/// it throws is logged with `failure` as the message and the loop goes on; the loop ends
/// without a word when the error comes from the task being cancelled.
public func runPeriodically(
    every interval: Duration, pacing: PeriodicPacing = .fixedDelay, logger: Logger, failure: Logger.Message = "periodic pass failed; retrying",
    _ pass: @escaping @Sendable () async throws -> Bool
) async {
    try? await cancelWhenGracefulShutdown {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            var foundWork = false
            do {
                foundWork = try await pass()
            } catch {
                if Task.isCancelled { return }
                logger.warning(failure, metadata: ["error": "\(error)"])
            }
            switch pacing {
            case .fixedDelay:
                try await Task.sleep(for: interval)
            case .restWhenIdle:
                if !foundWork { try await Task.sleep(for: interval) }
            case .fixedRate(let minimumRest):
                try await Task.sleep(for: max(interval - (clock.now - started), minimumRest))
            }
        }
    }
}
