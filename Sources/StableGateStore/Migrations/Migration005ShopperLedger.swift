extension SchemaMigrations {
    static let m005ShopperLedger = Migration(
        version: 5, name: "shopper-account ledger (double entry, append only)",
        statements: [
            """
            CREATE TABLE ledger_postings (
                reference TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE ledger_entries (
                reference TEXT NOT NULL REFERENCES ledger_postings(reference),
                side TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
                account TEXT NOT NULL,
                chain_id BIGINT NOT NULL,
                token TEXT NOT NULL,
                amount TEXT NOT NULL,
                PRIMARY KEY (reference, side)
            )
            """,
            "CREATE INDEX ledger_entries_account ON ledger_entries(account, chain_id, token)",
        ])
}
