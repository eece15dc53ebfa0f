/// One numbered schema change. Its statements run in one transaction, in order.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// The SQL, the same for SQLite and PostgreSQL unless `postgresStatements` is given.
    public let statements: [String]
    public let postgresStatements: [String]?

    public init(version: Int, name: String, statements: [String], postgresStatements: [String]? = nil) {
        self.version = version
        self.name = name
        self.statements = statements
        self.postgresStatements = postgresStatements
    }

    func statements(for dialect: DatabaseDialect) -> [String] {
        dialect == .postgres ? (postgresStatements ?? statements) : statements
    }
}
