extension SchemaMigrations {
    static let m009ReplayWindow = Migration(
        version: 9, name: "per-store replay window for signed requests",
        statements: [
            // NULL: the default window (docs/WIRE-CONTRACT.md §2.5: ±600 s); a store may narrow it to 30–600 s.
            "ALTER TABLE stores ADD COLUMN replay_window_seconds BIGINT"
        ])
}
