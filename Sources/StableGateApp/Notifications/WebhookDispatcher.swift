import Foundation
import Logging
import Metrics
import ServiceLifecycle
import StableGateDomain
import StableGateRuntime
import StableGateStore

/// Delivers the webhook outbox: claims due events (under a lease, so instances sharing a
/// database never send the same attempt at once), sends them concurrently — one event per
/// intent at a time, in order — and records each attempt. A failed attempt is retried on the
/// schedule; 410 Gone stops an event; the schedule's end fails it until someone redelivers it.
struct WebhookDispatcher: Service {
    let webhooks: WebhookRepository
    let sender: WebhookSender
    let schedule: RetrySchedule
    let clock: any WallClock
    /// Names this instance in leases and attempt records.
    let owner: String
    /// How long a claim is exclusive; longer than the send timeout, so only a stopped instance loses it.
    let lease: TimeInterval
    let pollInterval: Duration
    /// Events sent at once.
    let concurrency: Int
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: pollInterval, pacing: .restWhenIdle, logger: logger) { await runOnce() > 0 }
    }

    /// Claims what is due and delivers it; returns how many attempts it made.
    @discardableResult
    func runOnce() async -> Int {
        let claimed: [ClaimedWebhook]
        do {
            claimed = try await webhooks.claim(now: clock.now, owner: owner, lease: lease, limit: concurrency)
        } catch is CancellationError {
            return 0  // shutting down
        } catch {
            logger.warning("claiming webhook events failed", metadata: ["error": "\(error)"])
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for claim in claimed { group.addTask { await deliver(claim) } }
        }
        return claimed.count
    }

    private func deliver(_ claim: ClaimedWebhook) async {
        let result = await sender.send(claim)
        let now = clock.now
        let state: WebhookEventState
        var retryAt: Date?
        switch DeliveryVerdict(httpStatus: result.httpStatus) {
        case .delivered: state = .delivered
        case .gone: state = .gone
        case .retry:
            retryAt = schedule.nextAttempt(afterFailedAttempts: claim.event.cycleAttempts, at: now)
            state = retryAt == nil ? .failed : .pending
        }
        var metadata: Logger.Metadata = [
            "event_id": "\(claim.event.id)", "type": "\(claim.event.type)", "attempt": "\(claim.attempt)", "state": "\(state.rawValue)",
            "duration_ms": "\(result.durationMilliseconds)",
        ]
        if let intentId = claim.event.intentId { metadata["intent_id"] = "\(intentId)" }
        if let status = result.httpStatus { metadata["http_status"] = "\(status)" }
        if let error = result.error { metadata["error"] = "\(error)" }
        if let retryAt { metadata["retry_at"] = "\(CheckoutIntentWire.timestamp(retryAt))" }
        logger.log(level: state == .delivered ? .info : .notice, "webhook attempt", metadata: metadata)
        Counter(label: "stablegate_webhook_attempts_total", dimensions: [("state", state.rawValue)]).increment()
        do {
            try await webhooks.finish(claim, owner: owner, result: result, state: state, retryAt: retryAt, now: now)
        } catch {
            // The lease runs out and another pass sends it again: at least once, never lost.
            logger.warning("recording a webhook attempt failed", metadata: ["event_id": "\(claim.event.id)", "error": "\(error)"])
        }
    }
}
