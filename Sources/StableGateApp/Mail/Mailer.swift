import Foundation
import Logging
import Metrics
import ServiceLifecycle
import StableGateDomain
import StableGateRuntime
import StableGateStore

/// Sends the e-mail outbox through SMTP: claims due e-mails under a lease, renders each,
/// sends it, and retries transient failures on the schedule. A 5xx refusal or an e-mail that
/// cannot be rendered fails for good. Each message keeps one Message-ID across retries.
struct Mailer: Service {
    let outbox: EmailOutboxRepository
    let client: SMTPClient
    let renderer: EmailRenderer
    let schedule: RetrySchedule
    let clock: any WallClock
    let owner: String
    let lease: TimeInterval
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: pollInterval, pacing: .restWhenIdle, logger: logger) { await runOnce() > 0 }
    }

    /// Sends what is due; returns how many it tried.
    @discardableResult
    func runOnce() async -> Int {
        let claimed: [EmailRecord]
        do {
            claimed = try await outbox.claim(now: clock.now, owner: owner, lease: lease, limit: 4)
        } catch is CancellationError {
            return 0  // shutting down
        } catch {
            logger.warning("claiming e-mails failed", metadata: ["error": "\(error)"])
            return 0
        }
        for email in claimed { await send(email) }
        return claimed.count
    }

    private func send(_ email: EmailRecord) async {
        var metadata: Logger.Metadata = ["email_id": "\(email.id)", "kind": "\(email.kind.rawValue)", "attempt": "\(email.attempts)"]
        if let intentId = email.intentId { metadata["intent_id"] = "\(intentId)" }
        var subject: String?
        var state = EmailState.sent
        var failure: String?
        var retryAt: Date?
        do {
            let content = try await renderer.render(email)
            subject = content.subject
            let config = client.configuration
            let domain = config.from.split(separator: "@").last.map(String.init) ?? "stablegate.localhost"
            let message = MailMessage(
                from: config.from, fromName: config.fromName, to: email.recipients, subject: content.subject, text: content.text, html: content.html,
                attachments: content.attachments, messageId: "\(email.id)@\(domain)", date: clock.now)
            try await client.send(message.rendered(boundarySeed: email.id), to: email.recipients)
        } catch let error as SMTPError where !error.permanent {
            failure = error.description
            retryAt = schedule.nextAttempt(afterFailedAttempts: email.attempts, at: clock.now)
            state = retryAt == nil ? .failed : .pending
        } catch {
            failure = "\(error)"
            state = .failed
        }
        metadata["state"] = "\(state.rawValue)"
        if let failure { metadata["error"] = "\(failure)" }
        logger.log(level: state == .sent ? .info : .notice, "e-mail attempt", metadata: metadata)
        Counter(label: "stablegate_email_attempts_total", dimensions: [("state", state.rawValue)]).increment()
        do {
            try await outbox.finish(id: email.id, owner: owner, state: state, subject: subject, error: failure, retryAt: retryAt, now: clock.now)
        } catch {
            logger.warning("recording an e-mail attempt failed", metadata: ["email_id": "\(email.id)", "error": "\(error)"])
        }
    }
}
