import Foundation
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGateRuntime
import StableGateStore

/// Deletes nonces past their replay window, old rate-limit windows, expired idempotency
/// records, expired sessions and day-old login attempts, once a minute, so those tables stay small.
struct ExpiredStateJanitor: Service {
    let ledger: RequestLedger
    let sessions: SessionRepository
    let loginAttempts: LoginAttemptRepository
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: interval, logger: logger, failure: "purging expired request state failed") {
            let removed = try await ledger.purgeExpired(now: clock.now)
            if removed > 0 { logger.debug("purged expired request state", metadata: ["rows": "\(removed)"]) }
            try await sessions.purge(now: clock.now)
            try await loginAttempts.purge(before: clock.now.addingTimeInterval(-86_400))
            return true
        }
    }
}
