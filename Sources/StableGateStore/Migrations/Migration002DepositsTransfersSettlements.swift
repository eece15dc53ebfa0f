import StableGateDomain

extension SchemaMigrations {
    static let m002DepositsTransfersSettlements = Migration(
        version: 2, name: "deposit wallets, chain transfers, cursors, leases, settlements, sweeps",
        statements: [
            "ALTER TABLE stores ADD COLUMN fee_bps BIGINT",
            "ALTER TABLE stores ADD COLUMN kyt_enabled BIGINT NOT NULL DEFAULT 1",
            "ALTER TABLE stores ADD COLUMN payment_window_seconds BIGINT",
            "ALTER TABLE checkout_intents ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE checkout_intents ADD COLUMN deposit_address TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN token_decimals BIGINT",
            "ALTER TABLE checkout_intents ADD COLUMN amount_base_units TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN expires_at BIGINT",
            "ALTER TABLE checkout_intents ADD COLUMN settlement_status TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN overpaid_amount TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN late_paid_amount TEXT",
            "CREATE INDEX checkout_intents_open_expiry ON checkout_intents(expires_at) WHERE status IN (\(CheckoutStatus.sqlList(.created, .paying, .tempWalletReceived, .onChain)))",
            "CREATE INDEX checkout_intents_unassigned ON checkout_intents(created_at) WHERE status IN (\(CheckoutStatus.sqlList(.created, .paying)))",
            """
            CREATE TABLE deposit_addresses (
                address TEXT PRIMARY KEY,
                intent_id TEXT NOT NULL UNIQUE REFERENCES checkout_intents(id),
                derivation_index BIGINT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE chain_transfers (
                id TEXT PRIMARY KEY,
                chain_id BIGINT NOT NULL,
                tx_hash TEXT NOT NULL,
                log_index BIGINT NOT NULL,
                block_number BIGINT NOT NULL,
                block_hash TEXT NOT NULL,
                token_contract TEXT NOT NULL,
                stable_coin BIGINT NOT NULL,
                decimals BIGINT NOT NULL,
                from_address TEXT NOT NULL,
                to_address TEXT NOT NULL,
                amount TEXT NOT NULL,
                intent_id TEXT NOT NULL REFERENCES checkout_intents(id),
                kind TEXT NOT NULL,
                state TEXT NOT NULL,
                kyt_status TEXT NOT NULL,
                kyt_detail TEXT,
                credited BIGINT NOT NULL DEFAULT 0,
                detected_at BIGINT NOT NULL,
                confirmed_at BIGINT,
                UNIQUE (chain_id, tx_hash, log_index)
            )
            """,
            "CREATE INDEX chain_transfers_intent ON chain_transfers(intent_id)",
            "CREATE INDEX chain_transfers_open ON chain_transfers(chain_id, state) WHERE state = 'seen'",
            "CREATE INDEX chain_transfers_unscreened ON chain_transfers(chain_id) WHERE kyt_status = 'pending'",
            "CREATE TABLE chain_cursors (chain_id BIGINT PRIMARY KEY, next_block BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
            "CREATE TABLE chain_leases (chain_id BIGINT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)",
            "CREATE TABLE gateway_secrets (name TEXT PRIMARY KEY, sealed TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            """
            CREATE TABLE settlements (
                id TEXT PRIMARY KEY,
                intent_id TEXT NOT NULL REFERENCES checkout_intents(id),
                chain_id BIGINT NOT NULL,
                token_contract TEXT NOT NULL,
                decimals BIGINT NOT NULL,
                deposit_address TEXT NOT NULL,
                gross TEXT NOT NULL,
                fee TEXT NOT NULL,
                net TEXT NOT NULL,
                merchant_address TEXT,
                fee_address TEXT,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                last_error TEXT,
                next_attempt_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX settlements_open ON settlements(chain_id, next_attempt_at) WHERE state IN ('pending', 'sending')",
            "CREATE INDEX settlements_intent ON settlements(intent_id)",
            """
            CREATE TABLE sweep_transactions (
                id TEXT PRIMARY KEY,
                settlement_id TEXT NOT NULL REFERENCES settlements(id),
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
                UNIQUE (settlement_id, kind, attempt)
            )
            """,
            "CREATE INDEX sweep_transactions_settlement ON sweep_transactions(settlement_id)",
            "CREATE INDEX sweep_transactions_sender ON sweep_transactions(chain_id, from_address, nonce)",
        ])
}
