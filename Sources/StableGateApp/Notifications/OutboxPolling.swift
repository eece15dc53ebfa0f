import ServiceLifecycle

/// Runs `pass` until graceful shutdown, resting `interval` after a pass that found nothing to
/// do — a backlog drains at full speed, an idle instance polls gently. Shared by the webhook
/// dispatcher and the mailer, which both work off an outbox table.
func pollUntilShutdown(every interval: Duration, _ pass: @escaping @Sendable () async -> Int) async {
    try? await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            if await pass() == 0 { try await Task.sleep(for: interval) }
        }
    }
}
