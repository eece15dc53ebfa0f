import StableGateDomain
import StableGateStore

/// What an audit entry records about a settings change: `{"field": {"from": …, "to": …}}` for
/// each field that changed, the same whether the dashboard or the CLI made it.
public enum StoreSettingsDiff {
    public static func between(_ before: Store, _ after: Store) -> JSONValue {
        fields([
            ("name", before.name, after.name), ("webhook_url", before.webhookURL ?? "", after.webhookURL ?? ""),
            ("webhook_id", before.webhookId ?? "", after.webhookId ?? ""), ("events_url", before.eventsURL ?? "", after.eventsURL ?? ""),
            ("events_webhook_id", before.eventsWebhookId ?? "", after.eventsWebhookId ?? ""),
            ("signed_responses", String(before.signedResponses), String(after.signedResponses)),
            ("notification_emails", before.notificationEmails.joined(separator: ","), after.notificationEmails.joined(separator: ",")),
            ("wallet", before.walletAddress ?? "", after.walletAddress ?? ""),
            ("chain_wallets", chainWallets(before), chainWallets(after)),
            ("fee_bps", before.feeBasisPoints.map(String.init) ?? "", after.feeBasisPoints.map(String.init) ?? ""),
            ("payment_window_seconds", before.paymentWindowSeconds.map(String.init) ?? "", after.paymentWindowSeconds.map(String.init) ?? ""),
            ("replay_window_seconds", before.replayWindowSeconds.map(String.init) ?? "", after.replayWindowSeconds.map(String.init) ?? ""),
            ("kyt", String(before.kytEnabled), String(after.kytEnabled)),
        ])
    }

    /// The changed ones of `(field, from, to)` triples.
    public static func fields(_ changes: [(String, String, String)]) -> JSONValue {
        .object(changes.filter { $0.1 != $0.2 }.map { ($0.0, .object([("from", .string($0.1)), ("to", .string($0.2))])) })
    }

    private static func chainWallets(_ store: Store) -> String {
        store.chainWallets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
