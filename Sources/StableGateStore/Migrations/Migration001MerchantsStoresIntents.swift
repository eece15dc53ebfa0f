extension SchemaMigrations {
    static let m001MerchantsStoresIntents = Migration(
        version: 1, name: "merchants, stores, API keys, checkout intents, replay and rate state",
        statements: [
            """
            CREATE TABLE merchants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE stores (
                id TEXT PRIMARY KEY,
                merchant_id TEXT NOT NULL REFERENCES merchants(id),
                name TEXT NOT NULL,
                wallet_address TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX stores_merchant ON stores(merchant_id)",
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores(id),
                secret_ciphertext TEXT NOT NULL,
                label TEXT,
                allowed_cidrs TEXT NOT NULL,
                rate_limit_per_minute BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT,
                revoked_at BIGINT
            )
            """,
            "CREATE INDEX api_keys_store ON api_keys(store_id)",
            """
            CREATE TABLE checkout_intents (
                id TEXT PRIMARY KEY,
                store_id TEXT NOT NULL REFERENCES stores(id),
                status BIGINT NOT NULL,
                pricing_mode TEXT NOT NULL,
                currency BIGINT,
                amount_cents BIGINT NOT NULL,
                rate TEXT,
                rate_as_of BIGINT,
                stable_coin BIGINT NOT NULL,
                accepted_stable_coins TEXT NOT NULL,
                amount_coins TEXT NOT NULL,
                amount_micro BIGINT NOT NULL,
                order_id TEXT,
                order_description TEXT,
                user_id TEXT,
                user_name TEXT,
                redirect_url TEXT,
                extra TEXT,
                chain_id BIGINT,
                coin_contract TEXT,
                tx_hash TEXT,
                tx_hash_2 TEXT,
                tx_from TEXT,
                tx_to TEXT,
                actual_paid_amount TEXT,
                service_fee_amount TEXT,
                net_income_amount TEXT,
                payment_method_type BIGINT NOT NULL,
                error_message TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX checkout_intents_store_created ON checkout_intents(store_id, created_at, id)",
            """
            CREATE TABLE intent_transitions (
                intent_id TEXT NOT NULL REFERENCES checkout_intents(id),
                seq BIGINT NOT NULL,
                from_status BIGINT,
                to_status BIGINT NOT NULL,
                reason TEXT NOT NULL,
                at BIGINT NOT NULL,
                PRIMARY KEY (intent_id, seq)
            )
            """,
            """
            CREATE TABLE api_nonces (
                api_key_id TEXT NOT NULL,
                nonce TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (api_key_id, nonce)
            )
            """,
            "CREATE INDEX api_nonces_expiry ON api_nonces(expires_at)",
            """
            CREATE TABLE rate_limit_windows (
                api_key_id TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                request_count BIGINT NOT NULL,
                PRIMARY KEY (api_key_id, window_start)
            )
            """,
            """
            CREATE TABLE idempotency_records (
                store_id TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                intent_id TEXT NOT NULL,
                response_payload TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (store_id, idempotency_key)
            )
            """,
            "CREATE INDEX idempotency_records_expiry ON idempotency_records(expires_at)",
        ])
}
