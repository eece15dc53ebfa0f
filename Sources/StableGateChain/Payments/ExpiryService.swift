import Logging
import SQLKit
import ServiceLifecycle
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Ends intents whose time is up with nothing received: a payment window that ended, or a
/// checkout never given a network within the checkout lifetime (both TIMEOUT), or, when only
/// money in the wrong coin or network came, PENDING_MANUAL_OPERATION. Intents with transfers
/// still confirming are left until they confirm, so such money is never overlooked.
/// Every instance may run it: each decision is an optimistic update, made once.
public struct ExpiryService: Service {
    let database: any DatabaseClient
    let processor: PaymentProcessor
    let clock: any WallClock
    let checkoutLifetime: TimeInterval
    let interval: Duration
    let logger: Logger

    public init(
        database: any DatabaseClient, processor: PaymentProcessor, clock: any WallClock, checkoutLifetime: TimeInterval, interval: Duration,
        logger: Logger
    ) {
        self.database = database
        self.processor = processor
        self.clock = clock
        self.checkoutLifetime = checkoutLifetime
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await sweep()
                } catch {
                    logger.warning("expiry pass failed; retrying", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One pass. Returns how many intents were looked at.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = clock.now.unixMilliseconds
        let lifetimeStart = clock.now.addingTimeInterval(-checkoutLifetime).unixMilliseconds
        let due = try await database.read { db in
            let windows = try await db.raw("""
                SELECT id FROM checkout_intents WHERE status IN (1, 2, 3) AND expires_at <= \(bind: now)
                  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.state = 'seen')
                ORDER BY expires_at LIMIT 200
                """).all(decodingColumn: "id", as: String.self)
            // ON_CHAIN past its window: normally waiting for confirmations, which the watcher
            // handles; looked at here too (in its own batch, so waiting ones never crowd out the
            // rest) so that one whose transfers vanished or carry nothing still ends.
            let onChain = try await db.raw("""
                SELECT id FROM checkout_intents WHERE status = 10 AND expires_at <= \(bind: now)
                  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
                                  AND (t.state = 'seen' OR t.kyt_status = 'pending'))
                ORDER BY expires_at LIMIT 200
                """).all(decodingColumn: "id", as: String.self)
            let unassigned = try await db.raw("""
                SELECT id FROM checkout_intents WHERE status IN (1, 2) AND created_at <= \(bind: lifetimeStart) AND deposit_address IS NULL
                ORDER BY created_at LIMIT 200
                """).all(decodingColumn: "id", as: String.self)
            return windows + onChain + unassigned
        }
        for id in due {
            try await processor.process(intentId: id)
        }
        return due.count
    }
}
