import StableGateDomain

extension SchemaMigrations {
    static let m010AllScaleWebhooksAndTimeout = Migration(
        version: 10, name: "AllScale-format webhooks, a separate StableGate events URL, signed responses, TIMEOUT",
        statements: webhookEndpointsAndTimeout(randomHex32: "lower(hex(randomblob(16)))"),
        postgresStatements: webhookEndpointsAndTimeout(randomHex32: "replace(gen_random_uuid()::text, '-', '')"))

    /// Migration 10; `randomHex32` is the dialect's SQL for 32 random hex digits.
    private static func webhookEndpointsAndTimeout(randomHex32: String) -> [String] {
        [
            // The webhook URL is now the AllScale-format endpoint, with a webhook id merchants
            // may pin; StableGate's own events go to a second URL with its own id.
            "ALTER TABLE stores ADD COLUMN webhook_id TEXT",
            "ALTER TABLE stores ADD COLUMN events_url TEXT",
            "ALTER TABLE stores ADD COLUMN events_webhook_id TEXT",
            "ALTER TABLE stores ADD COLUMN signed_responses BIGINT NOT NULL DEFAULT 0",
            "UPDATE stores SET webhook_id = 'wh_' || \(randomHex32) WHERE webhook_url IS NOT NULL AND webhook_url <> ''",
            // Events queued before were StableGate envelopes: they belong to the events URL.
            "ALTER TABLE webhook_events ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'events'",
            // docs/WIRE-CONTRACT.md §6.1: a window that ended with nothing received is TIMEOUT (-5);
            // FAILED stays for processing errors. The reason text is the one the rules have
            // always written for it.
            """
            UPDATE intent_transitions SET to_status = \(CheckoutStatus.timeout.rawValue)
            WHERE to_status = \(CheckoutStatus.failed.rawValue) AND reason = 'payment window expired with nothing received'
            """,
            """
            UPDATE checkout_intents SET status = \(CheckoutStatus.timeout.rawValue)
            WHERE status = \(CheckoutStatus.failed.rawValue) AND error_message = 'payment window expired with nothing received'
            """,
        ]
    }
}
