import Foundation
import Logging
import ServiceLifecycle
import StableGateDomain
import StableGatePayments
import StableGateRuntime
import Synchronization

/// E-mails the operator (`alerts.emails`) when `/readyz` would fail — a chain behind or a hot
/// wallet short of gas — and once more when it recovers. Rate-limited: a new or changed set of
/// problems is sent at once, an unchanged one repeated at most every `repeatEvery`. Sent
/// straight over SMTP rather than through the merchant outbox: it concerns no store, and the
/// same conditions are also in the metrics and alert rules (`docs/prometheus-alerts.yml`).
struct OperatorAlerts: Service {
    let board: ChainHealthBoard
    let client: SMTPClient
    let recipients: [String]
    let clock: any WallClock
    let identifiers: any IdentifierGenerator
    let maximumLagBlocks: Int64
    let maximumLagSeconds: TimeInterval
    let interval: Duration
    let repeatEvery: TimeInterval
    let logger: Logger

    /// What was last sent, and when.
    struct State: Sendable, Equatable {
        var problems: [String] = []
        var sentAt: Date?
    }

    /// The e-mail to send for `problems` given what was sent before, if any (pure: the rate limit).
    static func decide(_ problems: [String], after state: State, now: Date, repeatEvery: TimeInterval) -> (subject: String, text: String)? {
        if problems.isEmpty {
            guard !state.problems.isEmpty else { return nil }
            return (
                "StableGate recovered",
                "Every watched chain is at its head again and the hot wallets can pay for forwarding.\n\nResolved:\n"
                    + state.problems.map { "- " + $0 }.joined(separator: "\n")
            )
        }
        let changed = problems != state.problems
        let due = state.sentAt.map { now.timeIntervalSince($0) >= repeatEvery } ?? true
        guard changed || due else { return nil }
        return (
            "StableGate needs attention: " + (problems.count == 1 ? problems[0] : "\(problems.count) problems"),
            "The gateway reports itself not ready (/readyz answers 503):\n\n" + problems.map { "- " + $0 }.joined(separator: "\n")
                + "\n\nSee the chain section of the README (failover, lag, metrics) and the gateway's log."
        )
    }

    func run() async throws {
        let state = Mutex(State())
        await runPeriodically(every: interval, logger: logger) {
            await alertIfDue(state)
            return true
        }
    }

    /// One look at the board: sends what ``decide(_:after:now:repeatEvery:)`` says to send.
    /// Returns true when an e-mail went out.
    @discardableResult
    func alertIfDue(_ state: borrowing Mutex<State>) async -> Bool {
        let now = clock.now
        let problems = board.problems(now: now, maximumBlocks: maximumLagBlocks, maximumSeconds: maximumLagSeconds)
        guard let mail = Self.decide(problems, after: state.withLock { $0 }, now: now, repeatEvery: repeatEvery) else { return false }
        let message = MailMessage(
            from: client.configuration.from, fromName: client.configuration.fromName, to: recipients, subject: mail.subject, text: mail.text,
            html: "<pre>" + APIReferencePage.escape(mail.text) + "</pre>", messageId: identifiers.objectId(at: now) + "@alerts.stablegate", date: now)
        do {
            try await client.send(message.rendered(boundarySeed: identifiers.randomBytes(8).hexString), to: recipients)
            state.withLock { $0 = State(problems: problems, sentAt: now) }
            logger.notice("operator alert sent", metadata: ["problems": "\(problems.count)"])
            return true
        } catch {
            logger.warning("operator alert not sent; will try again", metadata: ["error": "\(error)"])
            return false
        }
    }
}
