import Foundation
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGateEthereum
import StableGateRuntime
import StableGateStore

/// Ends intents whose time is up with nothing received: a payment window that ended, or a
/// checkout never given a network within the checkout lifetime (both TIMEOUT), or, when only
/// money in the wrong coin or network came, PENDING_MANUAL_OPERATION. Intents with transfers
/// still confirming are left until they confirm, so such money is never overlooked.
/// Every instance may run it: each decision is an optimistic update, made once.
public struct ExpiryService: Service {
    let intents: CheckoutIntentRepository
    let processor: PaymentProcessor
    let clock: any WallClock
    let checkoutLifetime: TimeInterval
    let interval: Duration
    let logger: Logger

    public init(
        database: any DatabaseClient, processor: PaymentProcessor, clock: any WallClock, checkoutLifetime: TimeInterval, interval: Duration,
        logger: Logger
    ) {
        self.intents = CheckoutIntentRepository(database: database)
        self.processor = processor
        self.clock = clock
        self.checkoutLifetime = checkoutLifetime
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await runPeriodically(every: interval, logger: logger, failure: "expiry pass failed; retrying") {
            _ = try await sweep()
            return true
        }
    }

    /// One pass. Returns how many intents were looked at.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = clock.now
        let due = try await intents.idsDueForExpiry(now: now, unassignedSince: now.addingTimeInterval(-checkoutLifetime))
        for id in due {
            try await processor.process(intentId: id)
        }
        return due.count
    }
}
