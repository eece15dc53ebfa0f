/// The schema, as numbered migrations, one per file (`MigrationNNN…swift`). Append new ones;
/// never edit one that has shipped: installed databases ran its SQL already.
///
/// Conventions that keep one schema portable between SQLite and PostgreSQL: times are BIGINT
/// Unix milliseconds; exact decimals are TEXT; integers are BIGINT; no BLOBs (ciphertext is
/// base64 TEXT).
public enum SchemaMigrations {
    /// Every migration, in the order the ``Migrator`` applies them.
    public static let all: [Migration] = [
        m001MerchantsStoresIntents,
        m002DepositsTransfersSettlements,
        m003DashboardUsersAndOrderIndexes,
        m004WebhookAndEmailOutboxes,
        m005ShopperLedger,
        m006ShopperAccounts,
        m007CheckoutTokensAndWalletReports,
        m008LoginAttemptClaims,
        m009ReplayWindow,
        m010AllScaleWebhooksAndTimeout,
        m011OrderTotals,
    ]
}
