extension SchemaMigrations {
    static let m011OrderTotals = Migration(
        version: 11, name: "order totals kept as they change: a rollup by store, day, status, chain and coin, and its pending changes",
        statements: orderTotals(
            changeId: "id INTEGER PRIMARY KEY", decimalSum: { "decimal_sum(\($0))" },
            triggers: [
                """
                CREATE TRIGGER order_totals_on_insert AFTER INSERT ON checkout_intents BEGIN
                    \(changeInsert(row: "NEW", sign: 1));
                END
                """,
                """
                CREATE TRIGGER order_totals_on_update AFTER UPDATE ON checkout_intents
                WHEN \(totalledColumns.map { "OLD.\($0) IS NOT NEW.\($0)" }.joined(separator: " OR "))
                BEGIN
                    \(changeInsert(row: "OLD", sign: -1));
                    \(changeInsert(row: "NEW", sign: 1));
                END
                """,
                """
                CREATE TRIGGER order_totals_on_delete AFTER DELETE ON checkout_intents BEGIN
                    \(changeInsert(row: "OLD", sign: -1));
                END
                """,
            ]),
        postgresStatements: orderTotals(
            changeId: "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", decimalSum: { "CAST(SUM(CAST(\($0) AS NUMERIC)) AS TEXT)" },
            triggers: [
                """
                CREATE FUNCTION order_totals_record() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND (\(totalledColumns.map { "OLD.\($0)" }.joined(separator: ", ")))
                        IS NOT DISTINCT FROM (\(totalledColumns.map { "NEW.\($0)" }.joined(separator: ", "))) THEN
                        RETURN NULL;
                    END IF;
                    IF TG_OP IN ('UPDATE', 'DELETE') THEN
                        \(changeInsert(row: "OLD", sign: -1));
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN
                        \(changeInsert(row: "NEW", sign: 1));
                    END IF;
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER order_totals AFTER INSERT OR UPDATE OR DELETE ON checkout_intents
                FOR EACH ROW EXECUTE FUNCTION order_totals_record()
                """,
            ]))

    /// The intent columns the totals depend on: a change to any of them moves the order between
    /// rollup rows or changes its sums.
    private static let totalledColumns = [
        "store_id", "created_at", "status", "chain_id", "stable_coin", "amount_micro", "actual_paid_amount", "service_fee_amount",
        "net_income_amount",
    ]

    /// The statement a trigger runs to record `row` (`NEW` or `OLD`) entering (`sign` 1) or
    /// leaving (−1) the totals.
    private static func changeInsert(row: String, sign: Int) -> String {
        """
        INSERT INTO order_total_changes (store_id, day, status, chain_id, stable_coin, sign, due_micro, paid, fees, net) \
        VALUES (\(row).store_id, \(row).created_at / 86400000, \(row).status, COALESCE(\(row).chain_id, 0), \(row).stable_coin, \(sign), \
        \(row).amount_micro, \(row).actual_paid_amount, \(row).service_fee_amount, \(row).net_income_amount)
        """
    }

    /// Migration 11. The dashboard's totals over a million orders cost hundreds of milliseconds
    /// when summed per request; they are kept instead, exactly, in `order_totals` (one row per
    /// store, UTC day, status, chain — 0 before one is chosen — and coin). Triggers on
    /// `checkout_intents` — so every writer, present or future, is covered in its own
    /// transaction — append each change to `order_total_changes`, where writers never contend
    /// for a row; `OrderTotalsRepository.compact` folds changes into the rollup, and a read adds
    /// the changes not yet folded, in one statement.
    private static func orderTotals(changeId: String, decimalSum: (String) -> String, triggers: [String]) -> [String] {
        [
            """
            CREATE TABLE order_totals (
                store_id TEXT NOT NULL,
                day BIGINT NOT NULL,
                status BIGINT NOT NULL,
                chain_id BIGINT NOT NULL,
                stable_coin BIGINT NOT NULL,
                orders BIGINT NOT NULL,
                due_micro BIGINT NOT NULL,
                paid TEXT NOT NULL,
                fees TEXT NOT NULL,
                net TEXT NOT NULL,
                PRIMARY KEY (store_id, day, status, chain_id, stable_coin)
            )
            """,
            """
            CREATE TABLE order_total_changes (
                \(changeId),
                store_id TEXT NOT NULL,
                day BIGINT NOT NULL,
                status BIGINT NOT NULL,
                chain_id BIGINT NOT NULL,
                stable_coin BIGINT NOT NULL,
                sign BIGINT NOT NULL,
                due_micro BIGINT NOT NULL,
                paid TEXT,
                fees TEXT,
                net TEXT
            )
            """,
            """
            INSERT INTO order_totals (store_id, day, status, chain_id, stable_coin, orders, due_micro, paid, fees, net)
            SELECT store_id, created_at / 86400000, status, COALESCE(chain_id, 0), stable_coin, COUNT(*), SUM(amount_micro),
                COALESCE(\(decimalSum("actual_paid_amount")), '0'), COALESCE(\(decimalSum("service_fee_amount")), '0'),
                COALESCE(\(decimalSum("net_income_amount")), '0')
            FROM checkout_intents GROUP BY store_id, created_at / 86400000, status, COALESCE(chain_id, 0), stable_coin
            """,
        ] + triggers
    }
}
