== 1 merchants, stores, API keys, checkout intents, replay and rate state
-- sqlite
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
;;
CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    name TEXT NOT NULL,
    wallet_address TEXT,
    created_at BIGINT NOT NULL
)
;;
CREATE INDEX stores_merchant ON stores(merchant_id)
;;
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
;;
CREATE INDEX api_keys_store ON api_keys(store_id)
;;
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
;;
CREATE INDEX checkout_intents_store_created ON checkout_intents(store_id, created_at, id)
;;
CREATE TABLE intent_transitions (
    intent_id TEXT NOT NULL REFERENCES checkout_intents(id),
    seq BIGINT NOT NULL,
    from_status BIGINT,
    to_status BIGINT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (intent_id, seq)
)
;;
CREATE TABLE api_nonces (
    api_key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, nonce)
)
;;
CREATE INDEX api_nonces_expiry ON api_nonces(expires_at)
;;
CREATE TABLE rate_limit_windows (
    api_key_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    request_count BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, window_start)
)
;;
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
;;
CREATE INDEX idempotency_records_expiry ON idempotency_records(expires_at)
;;
-- postgres
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
;;
CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    name TEXT NOT NULL,
    wallet_address TEXT,
    created_at BIGINT NOT NULL
)
;;
CREATE INDEX stores_merchant ON stores(merchant_id)
;;
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
;;
CREATE INDEX api_keys_store ON api_keys(store_id)
;;
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
;;
CREATE INDEX checkout_intents_store_created ON checkout_intents(store_id, created_at, id)
;;
CREATE TABLE intent_transitions (
    intent_id TEXT NOT NULL REFERENCES checkout_intents(id),
    seq BIGINT NOT NULL,
    from_status BIGINT,
    to_status BIGINT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (intent_id, seq)
)
;;
CREATE TABLE api_nonces (
    api_key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, nonce)
)
;;
CREATE INDEX api_nonces_expiry ON api_nonces(expires_at)
;;
CREATE TABLE rate_limit_windows (
    api_key_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    request_count BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, window_start)
)
;;
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
;;
CREATE INDEX idempotency_records_expiry ON idempotency_records(expires_at)
;;
== 2 deposit wallets, chain transfers, cursors, leases, settlements, sweeps
-- sqlite
ALTER TABLE stores ADD COLUMN fee_bps BIGINT
;;
ALTER TABLE stores ADD COLUMN kyt_enabled BIGINT NOT NULL DEFAULT 1
;;
ALTER TABLE stores ADD COLUMN payment_window_seconds BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN version BIGINT NOT NULL DEFAULT 0
;;
ALTER TABLE checkout_intents ADD COLUMN deposit_address TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN token_decimals BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN amount_base_units TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN expires_at BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN settlement_status TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN overpaid_amount TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN late_paid_amount TEXT
;;
CREATE INDEX checkout_intents_open_expiry ON checkout_intents(expires_at) WHERE status IN (1, 2, 3, 10)
;;
CREATE INDEX checkout_intents_unassigned ON checkout_intents(created_at) WHERE status IN (1, 2)
;;
CREATE TABLE deposit_addresses (
    address TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL UNIQUE REFERENCES checkout_intents(id),
    derivation_index BIGINT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
)
;;
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
;;
CREATE INDEX chain_transfers_intent ON chain_transfers(intent_id)
;;
CREATE INDEX chain_transfers_open ON chain_transfers(chain_id, state) WHERE state = 'seen'
;;
CREATE INDEX chain_transfers_unscreened ON chain_transfers(chain_id) WHERE kyt_status = 'pending'
;;
CREATE TABLE chain_cursors (chain_id BIGINT PRIMARY KEY, next_block BIGINT NOT NULL, updated_at BIGINT NOT NULL)
;;
CREATE TABLE chain_leases (chain_id BIGINT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)
;;
CREATE TABLE gateway_secrets (name TEXT PRIMARY KEY, sealed TEXT NOT NULL, created_at BIGINT NOT NULL)
;;
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)
;;
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
;;
CREATE INDEX settlements_open ON settlements(chain_id, next_attempt_at) WHERE state IN ('pending', 'sending')
;;
CREATE INDEX settlements_intent ON settlements(intent_id)
;;
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
;;
CREATE INDEX sweep_transactions_settlement ON sweep_transactions(settlement_id)
;;
CREATE INDEX sweep_transactions_sender ON sweep_transactions(chain_id, from_address, nonce)
;;
-- postgres
ALTER TABLE stores ADD COLUMN fee_bps BIGINT
;;
ALTER TABLE stores ADD COLUMN kyt_enabled BIGINT NOT NULL DEFAULT 1
;;
ALTER TABLE stores ADD COLUMN payment_window_seconds BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN version BIGINT NOT NULL DEFAULT 0
;;
ALTER TABLE checkout_intents ADD COLUMN deposit_address TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN token_decimals BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN amount_base_units TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN expires_at BIGINT
;;
ALTER TABLE checkout_intents ADD COLUMN settlement_status TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN overpaid_amount TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN late_paid_amount TEXT
;;
CREATE INDEX checkout_intents_open_expiry ON checkout_intents(expires_at) WHERE status IN (1, 2, 3, 10)
;;
CREATE INDEX checkout_intents_unassigned ON checkout_intents(created_at) WHERE status IN (1, 2)
;;
CREATE TABLE deposit_addresses (
    address TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL UNIQUE REFERENCES checkout_intents(id),
    derivation_index BIGINT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
)
;;
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
;;
CREATE INDEX chain_transfers_intent ON chain_transfers(intent_id)
;;
CREATE INDEX chain_transfers_open ON chain_transfers(chain_id, state) WHERE state = 'seen'
;;
CREATE INDEX chain_transfers_unscreened ON chain_transfers(chain_id) WHERE kyt_status = 'pending'
;;
CREATE TABLE chain_cursors (chain_id BIGINT PRIMARY KEY, next_block BIGINT NOT NULL, updated_at BIGINT NOT NULL)
;;
CREATE TABLE chain_leases (chain_id BIGINT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL)
;;
CREATE TABLE gateway_secrets (name TEXT PRIMARY KEY, sealed TEXT NOT NULL, created_at BIGINT NOT NULL)
;;
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)
;;
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
;;
CREATE INDEX settlements_open ON settlements(chain_id, next_attempt_at) WHERE state IN ('pending', 'sending')
;;
CREATE INDEX settlements_intent ON settlements(intent_id)
;;
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
;;
CREATE INDEX sweep_transactions_settlement ON sweep_transactions(settlement_id)
;;
CREATE INDEX sweep_transactions_sender ON sweep_transactions(chain_id, from_address, nonce)
;;
== 3 dashboard users, sessions, login throttling, audit log, store settings, order indexes
-- sqlite
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
;;
CREATE INDEX users_merchant ON users(merchant_id)
;;
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    realm TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)
;;
CREATE INDEX sessions_user ON sessions(realm, user_id)
;;
CREATE TABLE login_attempts (throttle_key TEXT NOT NULL, at BIGINT NOT NULL, succeeded BIGINT NOT NULL)
;;
CREATE INDEX login_attempts_key ON login_attempts(throttle_key, at)
;;
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    user_id TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
)
;;
CREATE INDEX audit_log_store ON audit_log(store_id, at)
;;
ALTER TABLE stores ADD COLUMN webhook_url TEXT
;;
ALTER TABLE stores ADD COLUMN notification_emails TEXT
;;
ALTER TABLE stores ADD COLUMN logo_content_type TEXT
;;
ALTER TABLE stores ADD COLUMN logo_data TEXT
;;
ALTER TABLE stores ADD COLUMN logo_version BIGINT NOT NULL DEFAULT 0
;;
CREATE TABLE store_wallets (
    store_id TEXT NOT NULL REFERENCES stores(id),
    chain_id BIGINT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (store_id, chain_id)
)
;;
DROP INDEX checkout_intents_store_created
;;
CREATE INDEX checkout_intents_store_orders ON checkout_intents(
    store_id, created_at, id, status, chain_id, stable_coin, amount_micro, actual_paid_amount, service_fee_amount, net_income_amount)
;;
CREATE INDEX checkout_intents_store_status ON checkout_intents(store_id, status, created_at, id)
;;
CREATE INDEX checkout_intents_store_order ON checkout_intents(store_id, order_id)
;;
CREATE INDEX checkout_intents_store_user ON checkout_intents(store_id, user_id)
;;
CREATE INDEX checkout_intents_tx ON checkout_intents(tx_hash)
;;
CREATE INDEX checkout_intents_tx2 ON checkout_intents(tx_hash_2)
;;
CREATE INDEX chain_transfers_tx ON chain_transfers(tx_hash)
;;
-- postgres
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
;;
CREATE INDEX users_merchant ON users(merchant_id)
;;
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    realm TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)
;;
CREATE INDEX sessions_user ON sessions(realm, user_id)
;;
CREATE TABLE login_attempts (throttle_key TEXT NOT NULL, at BIGINT NOT NULL, succeeded BIGINT NOT NULL)
;;
CREATE INDEX login_attempts_key ON login_attempts(throttle_key, at)
;;
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    user_id TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
)
;;
CREATE INDEX audit_log_store ON audit_log(store_id, at)
;;
ALTER TABLE stores ADD COLUMN webhook_url TEXT
;;
ALTER TABLE stores ADD COLUMN notification_emails TEXT
;;
ALTER TABLE stores ADD COLUMN logo_content_type TEXT
;;
ALTER TABLE stores ADD COLUMN logo_data TEXT
;;
ALTER TABLE stores ADD COLUMN logo_version BIGINT NOT NULL DEFAULT 0
;;
CREATE TABLE store_wallets (
    store_id TEXT NOT NULL REFERENCES stores(id),
    chain_id BIGINT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (store_id, chain_id)
)
;;
DROP INDEX checkout_intents_store_created
;;
CREATE INDEX checkout_intents_store_orders ON checkout_intents(
    store_id, created_at, id, status, chain_id, stable_coin, amount_micro, actual_paid_amount, service_fee_amount, net_income_amount)
;;
CREATE INDEX checkout_intents_store_status ON checkout_intents(store_id, status, created_at, id)
;;
CREATE INDEX checkout_intents_store_order ON checkout_intents(store_id, order_id)
;;
CREATE INDEX checkout_intents_store_user ON checkout_intents(store_id, user_id)
;;
CREATE INDEX checkout_intents_tx ON checkout_intents(tx_hash)
;;
CREATE INDEX checkout_intents_tx2 ON checkout_intents(tx_hash_2)
;;
CREATE INDEX chain_transfers_tx ON chain_transfers(tx_hash)
;;
== 4 webhook and e-mail outboxes, delivery attempts, report runs
-- sqlite
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
;;
CREATE UNIQUE INDEX webhook_events_intent ON webhook_events(intent_id, seq)
;;
CREATE INDEX webhook_events_due ON webhook_events(next_attempt_at) WHERE state IN ('pending', 'delivering')
;;
CREATE INDEX webhook_events_store ON webhook_events(store_id, created_at)
;;
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
;;
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
;;
CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE state IN ('pending', 'sending')
;;
CREATE INDEX email_outbox_intent ON email_outbox(intent_id)
;;
CREATE TABLE report_runs (
    store_id TEXT NOT NULL REFERENCES stores(id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    email_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, kind, label)
)
;;
-- postgres
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
;;
CREATE UNIQUE INDEX webhook_events_intent ON webhook_events(intent_id, seq)
;;
CREATE INDEX webhook_events_due ON webhook_events(next_attempt_at) WHERE state IN ('pending', 'delivering')
;;
CREATE INDEX webhook_events_store ON webhook_events(store_id, created_at)
;;
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
;;
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
;;
CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE state IN ('pending', 'sending')
;;
CREATE INDEX email_outbox_intent ON email_outbox(intent_id)
;;
CREATE TABLE report_runs (
    store_id TEXT NOT NULL REFERENCES stores(id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    email_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, kind, label)
)
;;
== 5 shopper-account ledger (double entry, append only)
-- sqlite
CREATE TABLE ledger_postings (
    reference TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
;;
CREATE TABLE ledger_entries (
    reference TEXT NOT NULL REFERENCES ledger_postings(reference),
    side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
    account TEXT NOT NULL,
    chain_id BIGINT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (reference, side)
)
;;
CREATE INDEX ledger_entries_account ON ledger_entries(account, chain_id, token)
;;
-- postgres
CREATE TABLE ledger_postings (
    reference TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
;;
CREATE TABLE ledger_entries (
    reference TEXT NOT NULL REFERENCES ledger_postings(reference),
    side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
    account TEXT NOT NULL,
    chain_id BIGINT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (reference, side)
)
;;
CREATE INDEX ledger_entries_account ON ledger_entries(account, chain_id, token)
;;
== 6 shopper accounts: logins, custodial deposit addresses, deposits, outgoing transfers
-- sqlite
CREATE TABLE shopper_accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    derivation_index BIGINT NOT NULL UNIQUE,
    deposit_address TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
)
;;
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
;;
CREATE INDEX account_deposits_open ON account_deposits(chain_id, state)
;;
CREATE INDEX account_deposits_account ON account_deposits(account_id, detected_at)
;;
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
;;
CREATE UNIQUE INDEX account_transfers_one_payment ON account_transfers(intent_id) WHERE kind = 'payment' AND state <> 'failed'
;;
CREATE INDEX account_transfers_open ON account_transfers(chain_id, next_attempt_at) WHERE state IN ('approved', 'sending')
;;
CREATE INDEX account_transfers_account ON account_transfers(account_id, created_at)
;;
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
;;
CREATE INDEX account_transactions_transfer ON account_transactions(transfer_id)
;;
CREATE INDEX account_transactions_sender ON account_transactions(chain_id, from_address, nonce)
;;
-- postgres
CREATE TABLE shopper_accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    derivation_index BIGINT NOT NULL UNIQUE,
    deposit_address TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
)
;;
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
;;
CREATE INDEX account_deposits_open ON account_deposits(chain_id, state)
;;
CREATE INDEX account_deposits_account ON account_deposits(account_id, detected_at)
;;
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
;;
CREATE UNIQUE INDEX account_transfers_one_payment ON account_transfers(intent_id) WHERE kind = 'payment' AND state <> 'failed'
;;
CREATE INDEX account_transfers_open ON account_transfers(chain_id, next_attempt_at) WHERE state IN ('approved', 'sending')
;;
CREATE INDEX account_transfers_account ON account_transfers(account_id, created_at)
;;
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
;;
CREATE INDEX account_transactions_transfer ON account_transactions(transfer_id)
;;
CREATE INDEX account_transactions_sender ON account_transactions(chain_id, from_address, nonce)
;;
== 7 checkout link tokens, browser wallet reports kept apart, zero-value transfers forgotten
-- sqlite
ALTER TABLE checkout_intents ADD COLUMN checkout_token_hash TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN checkout_token_sealed TEXT
;;
CREATE UNIQUE INDEX checkout_intents_checkout_token ON checkout_intents(checkout_token_hash)
;;
ALTER TABLE checkout_intents ADD COLUMN reported_tx_hash TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN reported_tx_from TEXT
;;
UPDATE checkout_intents SET reported_tx_hash = tx_hash, reported_tx_from = tx_from
WHERE payment_method_type = 2 AND tx_hash IS NOT NULL AND status IN (1, 2, 3)
;;
UPDATE checkout_intents SET tx_hash = NULL, tx_from = NULL, payment_method_type = 0
WHERE payment_method_type = 2 AND tx_hash IS NOT NULL AND status IN (1, 2, 3, -1, -4)
  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.tx_hash = checkout_intents.tx_hash)
;;
UPDATE checkout_intents SET
    tx_hash = (SELECT t.tx_hash FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
               AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1),
    tx_from = (SELECT t.from_address FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
               AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1)
WHERE EXISTS (SELECT 1 FROM chain_transfers z WHERE z.intent_id = checkout_intents.id AND z.tx_hash = checkout_intents.tx_hash
              AND z.amount = '0')
;;
DELETE FROM chain_transfers WHERE amount = '0' AND credited = 0 AND kyt_status <> 'flagged'
;;
-- postgres
ALTER TABLE checkout_intents ADD COLUMN checkout_token_hash TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN checkout_token_sealed TEXT
;;
CREATE UNIQUE INDEX checkout_intents_checkout_token ON checkout_intents(checkout_token_hash)
;;
ALTER TABLE checkout_intents ADD COLUMN reported_tx_hash TEXT
;;
ALTER TABLE checkout_intents ADD COLUMN reported_tx_from TEXT
;;
UPDATE checkout_intents SET reported_tx_hash = tx_hash, reported_tx_from = tx_from
WHERE payment_method_type = 2 AND tx_hash IS NOT NULL AND status IN (1, 2, 3)
;;
UPDATE checkout_intents SET tx_hash = NULL, tx_from = NULL, payment_method_type = 0
WHERE payment_method_type = 2 AND tx_hash IS NOT NULL AND status IN (1, 2, 3, -1, -4)
  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.tx_hash = checkout_intents.tx_hash)
;;
UPDATE checkout_intents SET
    tx_hash = (SELECT t.tx_hash FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
               AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1),
    tx_from = (SELECT t.from_address FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
               AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1)
WHERE EXISTS (SELECT 1 FROM chain_transfers z WHERE z.intent_id = checkout_intents.id AND z.tx_hash = checkout_intents.tx_hash
              AND z.amount = '0')
;;
DELETE FROM chain_transfers WHERE amount = '0' AND credited = 0 AND kyt_status <> 'flagged'
;;
== 8 login attempts claimed before the password check
-- sqlite
ALTER TABLE login_attempts ADD COLUMN claim_id TEXT
;;
-- postgres
ALTER TABLE login_attempts ADD COLUMN claim_id TEXT
;;
== 9 per-store replay window for signed requests
-- sqlite
ALTER TABLE stores ADD COLUMN replay_window_seconds BIGINT
;;
-- postgres
ALTER TABLE stores ADD COLUMN replay_window_seconds BIGINT
;;
== 10 AllScale-format webhooks, a separate StableGate events URL, signed responses, TIMEOUT
-- sqlite
ALTER TABLE stores ADD COLUMN webhook_id TEXT
;;
ALTER TABLE stores ADD COLUMN events_url TEXT
;;
ALTER TABLE stores ADD COLUMN events_webhook_id TEXT
;;
ALTER TABLE stores ADD COLUMN signed_responses BIGINT NOT NULL DEFAULT 0
;;
UPDATE stores SET webhook_id = 'wh_' || lower(hex(randomblob(16))) WHERE webhook_url IS NOT NULL AND webhook_url <> ''
;;
ALTER TABLE webhook_events ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'events'
;;
UPDATE intent_transitions SET to_status = -5
WHERE to_status = -1 AND reason = 'payment window expired with nothing received'
;;
UPDATE checkout_intents SET status = -5
WHERE status = -1 AND error_message = 'payment window expired with nothing received'
;;
-- postgres
ALTER TABLE stores ADD COLUMN webhook_id TEXT
;;
ALTER TABLE stores ADD COLUMN events_url TEXT
;;
ALTER TABLE stores ADD COLUMN events_webhook_id TEXT
;;
ALTER TABLE stores ADD COLUMN signed_responses BIGINT NOT NULL DEFAULT 0
;;
UPDATE stores SET webhook_id = 'wh_' || replace(gen_random_uuid()::text, '-', '') WHERE webhook_url IS NOT NULL AND webhook_url <> ''
;;
ALTER TABLE webhook_events ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'events'
;;
UPDATE intent_transitions SET to_status = -5
WHERE to_status = -1 AND reason = 'payment window expired with nothing received'
;;
UPDATE checkout_intents SET status = -5
WHERE status = -1 AND error_message = 'payment window expired with nothing received'
;;
