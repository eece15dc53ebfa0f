extension SchemaMigrations {
    static let m008LoginAttemptClaims = Migration(
        version: 8, name: "login attempts claimed before the password check",
        statements: [
            // Each attempt is stored as failed before bcrypt runs; a right password marks the
            // rows of its own claim (and only those) as succeeded.
            "ALTER TABLE login_attempts ADD COLUMN claim_id TEXT"
        ])
}
