extension SchemaMigrations {
    static let m006ShopperAccounts = Migration(
        version: 6, name: "shopper accounts: logins, custodial deposit addresses, deposits, outgoing transfers",
        statements: [
            """
            CREATE TABLE shopper_accounts (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                derivation_index BIGINT NOT NULL UNIQUE,
                deposit_address TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                disabled_at BIGINT
            )
            """,
            """
            CREATE TABLE account_deposits (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES shopper_accounts(id),
                chain_id BIGINT NOT NULL,
                tx_hash TEXT NOT NULL,
                log_index BIGINT NOT NULL,
                block_number BIGINT NOT NULL,
                block_hash TEXT NOT NULL,
                token_contract TEXT NOT NULL,
                decimals BIGINT NOT NULL,
                from_address TEXT NOT NULL,
                amount TEXT NOT NULL,
                state TEXT NOT NULL,
                detected_at BIGINT NOT NULL,
                confirmed_at BIGINT,
                UNIQUE (chain_id, tx_hash, log_index)
            )
            """,
            "CREATE INDEX account_deposits_open ON account_deposits(chain_id, state)",
            "CREATE INDEX account_deposits_account ON account_deposits(account_id, detected_at)",
            """
            CREATE TABLE account_transfers (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('payment', 'withdrawal')),
                account_id TEXT NOT NULL REFERENCES shopper_accounts(id),
                chain_id BIGINT NOT NULL,
                token_contract TEXT NOT NULL,
                decimals BIGINT NOT NULL,
                amount TEXT NOT NULL,
                to_address TEXT NOT NULL,
                intent_id TEXT REFERENCES checkout_intents(id),
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                last_error TEXT,
                next_attempt_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            // One live account payment per intent, whatever races: a second tab or a double
            // click finds the first; only a failed (refunded) payment may be tried again.
            "CREATE UNIQUE INDEX account_transfers_one_payment ON account_transfers(intent_id) WHERE kind = 'payment' AND state <> 'failed'",
            "CREATE INDEX account_transfers_open ON account_transfers(chain_id, next_attempt_at) WHERE state IN ('approved', 'sending')",
            "CREATE INDEX account_transfers_account ON account_transfers(account_id, created_at)",
            """
            CREATE TABLE account_transactions (
                id TEXT PRIMARY KEY,
                transfer_id TEXT NOT NULL REFERENCES account_transfers(id),
                chain_id BIGINT NOT NULL,
                kind TEXT NOT NULL,
                attempt BIGINT NOT NULL,
                from_address TEXT NOT NULL,
                to_address TEXT NOT NULL,
                nonce BIGINT NOT NULL,
                raw_tx TEXT NOT NULL,
                tx_hash TEXT NOT NULL,
                max_fee_per_gas TEXT NOT NULL,
                state TEXT NOT NULL,
                block_number BIGINT,
                broadcast_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (transfer_id, kind, attempt)
            )
            """,
            "CREATE INDEX account_transactions_transfer ON account_transactions(transfer_id)",
            "CREATE INDEX account_transactions_sender ON account_transactions(chain_id, from_address, nonce)",
        ])
}
