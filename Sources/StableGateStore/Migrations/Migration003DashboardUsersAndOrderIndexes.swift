extension SchemaMigrations {
    static let m003DashboardUsersAndOrderIndexes = Migration(
        version: 3, name: "dashboard users, sessions, login throttling, audit log, store settings, order indexes",
        statements: [
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                merchant_id TEXT NOT NULL REFERENCES merchants(id),
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT,
                setup_token_hash TEXT,
                setup_expires_at BIGINT,
                created_at BIGINT NOT NULL,
                disabled_at BIGINT
            )
            """,
            "CREATE INDEX users_merchant ON users(merchant_id)",
            """
            CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                realm TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sessions_user ON sessions(realm, user_id)",
            "CREATE TABLE login_attempts (throttle_key TEXT NOT NULL, at BIGINT NOT NULL, succeeded BIGINT NOT NULL)",
            "CREATE INDEX login_attempts_key ON login_attempts(throttle_key, at)",
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL,
                user_id TEXT,
                actor TEXT NOT NULL,
                at BIGINT NOT NULL,
                action TEXT NOT NULL,
                detail TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_log_store ON audit_log(store_id, at)",
            "ALTER TABLE stores ADD COLUMN webhook_url TEXT",
            "ALTER TABLE stores ADD COLUMN notification_emails TEXT",
            "ALTER TABLE stores ADD COLUMN logo_content_type TEXT",
            "ALTER TABLE stores ADD COLUMN logo_data TEXT",
            "ALTER TABLE stores ADD COLUMN logo_version BIGINT NOT NULL DEFAULT 0",
            """
            CREATE TABLE store_wallets (
                store_id TEXT NOT NULL REFERENCES stores(id),
                chain_id BIGINT NOT NULL,
                address TEXT NOT NULL,
                PRIMARY KEY (store_id, chain_id)
            )
            """,
            // The order list: keyset pages by (created_at, id), and every column the dashboard's
            // totals and filters read, so totals over a million orders scan this index, not the table.
            "DROP INDEX checkout_intents_store_created",
            """
            CREATE INDEX checkout_intents_store_orders ON checkout_intents(
                store_id, created_at, id, status, chain_id, stable_coin, amount_micro, actual_paid_amount, service_fee_amount, net_income_amount)
            """,
            "CREATE INDEX checkout_intents_store_status ON checkout_intents(store_id, status, created_at, id)",
            "CREATE INDEX checkout_intents_store_order ON checkout_intents(store_id, order_id)",
            "CREATE INDEX checkout_intents_store_user ON checkout_intents(store_id, user_id)",
            "CREATE INDEX checkout_intents_tx ON checkout_intents(tx_hash)",
            "CREATE INDEX checkout_intents_tx2 ON checkout_intents(tx_hash_2)",
            "CREATE INDEX chain_transfers_tx ON chain_transfers(tx_hash)",
        ])
}
