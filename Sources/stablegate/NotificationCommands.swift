import ArgumentParser
import StableGateApp
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `stablegate webhooks …`: test, redeliver and inspect webhook events.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Send test events, redeliver events, list events and their attempts.",
        subcommands: [Test.self, Redeliver.self, List.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Send a webhook.test event to the store's StableGate events URL now and show the answer (the AllScale-format webhook URL gets confirmed payments only)."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Store id.") var store: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await deliverNow(global, json: json) { try await $0.sendTestEvent(storeId: store) }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue an event again with a fresh retry schedule and deliver it now.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The event id (evt_…).") var eventId: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await deliverNow(global, json: json) { try await $0.redeliver(eventId: eventId) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an intent's (or a store's newest) webhook events with every attempt.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Checkout intent id.") var intent: String?
        @Option(help: "Store id (its newest 100 events).") var store: String?
        @Flag(help: "Print JSON lines, one event per line.") var json = false

        func validate() throws {
            guard (intent == nil) != (store == nil) else { throw ValidationError("give --intent or --store") }
        }

        func run() async throws {
            let reports = try await global.withNotifications { try await $0.events(intentId: intent, storeId: store) }
            printReports(reports, json: json)
        }
    }
}

extension GlobalOptions {
    /// Opens the environment and runs `body` with its operator notifications (see ``withEnvironment(extra:_:)``).
    func withNotifications<T>(_ body: (OperatorNotifications) async throws -> T) async throws -> T {
        try await withEnvironment { environment in try await body(OperatorNotifications(environment: environment)) }
    }
}

/// Delivers one event now with `deliver`, prints its report, and exits 1 unless it was delivered.
private func deliverNow(
    _ global: GlobalOptions, json: Bool, _ deliver: (OperatorNotifications) async throws -> OperatorNotifications.EventReport
) async throws {
    let report = try await global.withNotifications(deliver)
    printReports([report], json: json)
    if report.event.state != .delivered { throw ExitCode(1) }
}

private func printReports(_ reports: [OperatorNotifications.EventReport], json: Bool) {
    for report in reports {
        let event = report.event
        if json {
            let attempts = JSONValue.array(
                report.attempts.map { attempt in
                    .object([
                        ("attempt", .int(attempt.attempt)), ("started_at", .string(attempt.startedAt.formatted(.iso8601))),
                        ("url", .string(attempt.url)),
                        ("http_status", attempt.httpStatus.map { .int($0) } ?? .null),
                        ("duration_ms", attempt.durationMilliseconds.map { .int($0) } ?? .null),
                        ("error", .stringOrNull(attempt.error)), ("response_excerpt", .stringOrNull(attempt.responseExcerpt)),
                        ("instance", .string(attempt.owner)),
                    ])
                })
            print(
                JSONValue.object([
                    ("event_id", .string(event.id)), ("type", .string(event.type)), ("endpoint", .string(event.endpoint.rawValue)),
                    ("intent_id", .stringOrNull(event.intentId)),
                    ("sequence", event.intentId == nil ? .null : .int(event.sequence)), ("state", .string(event.state.rawValue)),
                    ("attempts", .int(event.attempts)),
                    ("next_attempt_at", event.state == .pending ? .string(event.nextAttemptAt.formatted(.iso8601)) : .null),
                    ("attempt_log", attempts),
                ]).serialized)
        } else {
            print(
                "\(event.id)  \(event.type)  \(event.state.rawValue)  attempts=\(event.attempts)  to=\(event.endpoint.title)\(event.intentId.map { "  intent=\($0)" } ?? "")"
            )
            for attempt in report.attempts {
                let outcome = attempt.httpStatus.map { "HTTP \($0)" } ?? attempt.error ?? "in flight"
                print(
                    "  #\(attempt.attempt) \(attempt.startedAt.formatted(.iso8601))  \(outcome)\(attempt.durationMilliseconds.map { "  \($0) ms" } ?? "")  \(attempt.url)"
                )
            }
        }
    }
    if reports.isEmpty && !json { print("no events") }
}

/// `stablegate reports send`: one store's report for one period, now.
struct ReportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reports", abstract: "Send summary reports.", subcommands: [Send.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a store's daily or monthly report (with its CSV) to the store's notification addresses now, even if it was sent before.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Store id.") var store: String
        @Option(help: "daily or monthly.") var period: String
        @Option(help: "A date in the period, YYYY-MM-DD, in the reports' time zone (for monthly: any day of the month).") var date: String

        func run() async throws {
            guard let kind = ReportPeriod.Kind(rawValue: period) else { throw ValidationError("--period must be daily or monthly") }
            let email = try await global.withNotifications { try await $0.sendReport(storeId: store, kind: kind, date: date) }
            print(
                "\(email.id)  \(email.state.rawValue)  \(email.subject ?? "")  to \(email.recipients.joined(separator: ", "))\(email.lastError.map { "  error: \($0)" } ?? "")"
            )
            if email.state != .sent { throw ExitCode(1) }
        }
    }
}
