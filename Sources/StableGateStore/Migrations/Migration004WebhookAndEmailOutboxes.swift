extension SchemaMigrations {
    static let m004WebhookAndEmailOutboxes = Migration(
        version: 4, name: "webhook and e-mail outboxes, delivery attempts, report runs",
        statements: [
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores(id),
                intent_id TEXT REFERENCES checkout_intents(id),
                seq BIGINT NOT NULL,
                type TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                cycle_attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                lease_owner TEXT,
                lease_until BIGINT,
                last_status BIGINT,
                last_error TEXT,
                delivered_at BIGINT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX webhook_events_intent ON webhook_events(intent_id, seq)",
            "CREATE INDEX webhook_events_due ON webhook_events(next_attempt_at) WHERE state IN ('pending', 'delivering')",
            "CREATE INDEX webhook_events_store ON webhook_events(store_id, created_at)",
            """
            CREATE TABLE webhook_attempts (
                event_id TEXT NOT NULL REFERENCES webhook_events(id),
                attempt BIGINT NOT NULL,
                owner TEXT NOT NULL,
                url TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                duration_ms BIGINT,
                http_status BIGINT,
                error TEXT,
                response_excerpt TEXT,
                PRIMARY KEY (event_id, attempt)
            )
            """,
            """
            CREATE TABLE email_outbox (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores(id),
                intent_id TEXT REFERENCES checkout_intents(id),
                kind TEXT NOT NULL,
                recipients TEXT NOT NULL,
                report_kind TEXT,
                report_label TEXT,
                report_start BIGINT,
                report_end BIGINT,
                created_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                lease_owner TEXT,
                lease_until BIGINT,
                subject TEXT,
                last_error TEXT,
                sent_at BIGINT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE state IN ('pending', 'sending')",
            "CREATE INDEX email_outbox_intent ON email_outbox(intent_id)",
            """
            CREATE TABLE report_runs (
                store_id TEXT NOT NULL REFERENCES stores(id),
                kind TEXT NOT NULL,
                label TEXT NOT NULL,
                email_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (store_id, kind, label)
            )
            """,
        ])
}
