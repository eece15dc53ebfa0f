import SQLKit
import StableGateDomain

/// Every value in the database sealed under the master key, wherever it is kept: the gateway's
/// secrets (wallet seed, hot key, the master key check value; each sealed for its own name),
/// the API keys' secrets and the checkout links' tokens. `stablegate doctor` opens them all to
/// tell whether the configured key is the one they were sealed with; a master-key rotation
/// re-seals the same list.
public struct SealedSecretInventory: Sendable {
    /// One place sealed values are kept.
    public struct Location: Sendable, Equatable {
        /// What is sealed there, for people ("API key secrets").
        public let title: String
        let table: String
        let key: String
        let column: String
        /// The purpose the values were sealed for; nil when it is the row's key (gateway secrets).
        let purpose: String?
    }

    /// One sealed value and where it is.
    public struct Item: Sendable {
        public let location: Location
        /// The row's key (a secret's name, an API key id, an intent id).
        public let id: String
        public let sealed: String
        /// The purpose it was sealed for (``SecretBox/open(_:purpose:)``).
        public let purpose: String
    }

    /// How many sealed values of one location open, and how many do not.
    public struct Tally: Sendable, Equatable {
        public let title: String
        public var opened = 0
        public var refused = 0
    }

    /// Every location, in the order they are reported. The table and column names are
    /// constants of this module, never input.
    public static let locations: [Location] = [
        Location(title: "gateway secrets", table: "gateway_secrets", key: "name", column: "sealed", purpose: nil),
        Location(title: "API key secrets", table: "api_keys", key: "id", column: "secret_ciphertext", purpose: APIKeyRecord.secretPurpose),
        Location(
            title: "checkout link tokens", table: "checkout_intents", key: "id", column: "checkout_token_sealed", purpose: CheckoutLink.sealPurpose),
    ]

    let database: any DatabaseClient

    public init(database: any DatabaseClient) {
        self.database = database
    }

    /// Calls `body` with every sealed value, a page at a time (memory stays flat however many
    /// intents there are), in key order per location.
    public func forEach(pageSize: Int = 500, _ body: (Item) throws -> Void) async throws {
        for location in Self.locations {
            var after: String?
            while true {
                let rows = try await database.read { [after] db in
                    var query = SQLQueryString(
                        "SELECT \(unsafeRaw: location.key) AS k, \(unsafeRaw: location.column) AS v FROM \(unsafeRaw: location.table) WHERE \(unsafeRaw: location.column) IS NOT NULL"
                    )
                    if let after {
                        query.appendInterpolation(unsafeRaw: " AND \(location.key) > ")
                        query.appendInterpolation(bind: after)
                    }
                    query.appendInterpolation(unsafeRaw: " ORDER BY \(location.key) LIMIT \(pageSize)")
                    return try await db.raw(query).all().map { row in
                        (try row.decode(column: "k", as: String.self), try row.decode(column: "v", as: String.self))
                    }
                }
                for (id, sealed) in rows {
                    try body(Item(location: location, id: id, sealed: sealed, purpose: location.purpose ?? id))
                }
                guard rows.count == pageSize, let last = rows.last else { break }
                after = last.0
            }
        }
    }

    /// How many values of each location `secretBox` opens and how many it does not.
    public func tally(with secretBox: SecretBox) async throws -> [Tally] {
        var tallies = Self.locations.map { Tally(title: $0.title) }
        try await forEach { item in
            let index = Self.locations.firstIndex(of: item.location)!
            if (try? secretBox.open(item.sealed, purpose: item.purpose)) != nil { tallies[index].opened += 1 } else { tallies[index].refused += 1 }
        }
        return tallies
    }
}
