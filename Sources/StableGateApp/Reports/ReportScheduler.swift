// Full Foundation: named time zones.
import Foundation
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGateRuntime
import StableGateStore

/// Queues each store's daily and monthly reports when they fall due — at the configured local
/// time in the configured time zone, the day (or month) after the period — for every store
/// with notification addresses. A period is queued once (its report run is unique per store
/// and period, whatever the number of instances); periods missed while the gateway was down
/// are caught up, up to 31 days and 12 months back, never before the store existed.
struct ReportScheduler: Service {
    let merchants: MerchantRepository
    let outbox: EmailOutboxRepository
    let identifiers: any IdentifierGenerator
    let clock: any WallClock
    let hour: Int
    let minute: Int
    let timeZone: TimeZone
    let interval: Duration
    let logger: Logger

    static let catchUp: [ReportPeriod.Kind: Int] = [.daily: 31, .monthly: 12]

    func run() async throws {
        await runPeriodically(every: interval, logger: logger) {
            await runOnce()
            return true
        }
    }

    /// Queues every report that is due and not yet queued; returns how many it queued.
    @discardableResult
    func runOnce() async -> Int {
        var queued = 0
        do {
            let now = clock.now
            for store in try await merchants.storesWithNotificationEmails() {
                for kind in ReportPeriod.Kind.allCases {
                    let due = ReportPeriod.due(
                        kind: kind, now: now, hour: hour, minute: minute, timeZone: timeZone, notBefore: store.createdAt, limit: Self.catchUp[kind]!)
                    guard !due.isEmpty else { continue }
                    let done = try await outbox.reportLabels(storeId: store.id, kind: kind)
                    for period in due.reversed() where !done.contains(period.label) {
                        if try await outbox.enqueueReport(
                            id: identifiers.objectId(at: now), storeId: store.id, recipients: store.emails, period: period, force: false, at: now)
                            != nil
                        {
                            queued += 1
                            logger.info("report queued", metadata: ["store_id": "\(store.id)", "period": "\(period)"])
                        }
                    }
                }
            }
        } catch {
            logger.warning("queuing reports failed", metadata: ["error": "\(error)"])
        }
        return queued
    }
}
