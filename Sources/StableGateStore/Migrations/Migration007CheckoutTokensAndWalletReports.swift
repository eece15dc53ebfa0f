import StableGateDomain

extension SchemaMigrations {
    static let m007CheckoutTokensAndWalletReports = Migration(
        version: 7, name: "checkout link tokens, browser wallet reports kept apart, zero-value transfers forgotten",
        statements: [
            // The hosted checkout URL's capability (SHA-256 for lookup, the token sealed under the
            // master key). Existing intents get theirs at start-up (GatewayEnvironment), which
            // has the master key; their old /checkout/{intent id} URLs answer 404 from now on.
            "ALTER TABLE checkout_intents ADD COLUMN checkout_token_hash TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN checkout_token_sealed TEXT",
            "CREATE UNIQUE INDEX checkout_intents_checkout_token ON checkout_intents(checkout_token_hash)",
            "ALTER TABLE checkout_intents ADD COLUMN reported_tx_hash TEXT",
            "ALTER TABLE checkout_intents ADD COLUMN reported_tx_from TEXT",
            // What a browser reported used to be stored as the chain's tx_hash/tx_from. Where the
            // chain never showed that transaction, it was only a report: keep it apart (open
            // orders) or forget it (orders that ended unpaid).
            """
            UPDATE checkout_intents SET reported_tx_hash = tx_hash, reported_tx_from = tx_from
            WHERE payment_method_type = \(PaymentMethodType.walletConnect.rawValue) AND tx_hash IS NOT NULL AND status IN (\(CheckoutStatus.sqlList(.created, .paying, .tempWalletReceived)))
            """,
            """
            UPDATE checkout_intents SET tx_hash = NULL, tx_from = NULL, payment_method_type = \(PaymentMethodType.unknown.rawValue)
            WHERE payment_method_type = \(PaymentMethodType.walletConnect.rawValue) AND tx_hash IS NOT NULL AND status IN (\(CheckoutStatus.sqlList(.created, .paying, .tempWalletReceived, .failed, .canceled)))
              AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.tx_hash = checkout_intents.tx_hash)
            """,
            // Zero-value Transfer events carry no money and anyone can emit them with any sender:
            // they are no longer recorded. An order that took one as its tx_hash/tx_from gets
            // its first transfer that carries value instead (NULL when there is none: the
            // processor then sends it back to waiting), so nobody refunds to a forger.
            """
            UPDATE checkout_intents SET
                tx_hash = (SELECT t.tx_hash FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
                           AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1),
                tx_from = (SELECT t.from_address FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
                           AND t.state <> 'dropped' AND t.amount <> '0' ORDER BY t.block_number, t.log_index LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM chain_transfers z WHERE z.intent_id = checkout_intents.id AND z.tx_hash = checkout_intents.tx_hash
                          AND z.amount = '0')
            """,
            // Forgotten, except those a KYT verdict flagged: an order REJECTED by one of them was
            // rejected by a forged transfer, and the operator finds it in `transfers list --held`.
            "DELETE FROM chain_transfers WHERE amount = '0' AND credited = 0 AND kyt_status <> 'flagged'",
        ])
}
