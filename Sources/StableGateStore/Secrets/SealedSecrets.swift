import Foundation
import SQLKit
import StableGateDomain

/// Every value in the database sealed by ``SecretBox`` under the master key, in one place:
/// what checking a key against a database and rotating the master key go through. A new
/// sealed column belongs in ``columns`` (the store tests scan a populated database for sealed
/// text outside it).
public enum SealedSecrets {
    /// One column of sealed text.
    public struct Column: Sendable, Equatable {
        /// The table.
        public let table: String
        /// Its primary key column (TEXT), to page by and to name a row in reports.
        public let idColumn: String
        /// The column holding `v1:` sealed text; NULL rows have nothing sealed.
        public let sealedColumn: String
        /// The ``SecretBox`` purpose: this fixed string, or else the value of ``purposeColumn``.
        public let purpose: String?
        /// The column whose value is the purpose (gateway secrets are sealed for their name).
        public let purposeColumn: String?
    }

    /// Every sealed column: API secrets (they also sign webhooks), gateway secrets (the sandbox
    /// deposit seed and hot wallet key, and the master key check value), hosted checkout
    /// link tokens. The SMTP password, the KYT key and the production wallet keys come from
    /// configuration and are never stored.
    public static let columns: [Column] = [
        Column(table: "api_keys", idColumn: "id", sealedColumn: "secret_ciphertext", purpose: APIKeyRecord.secretPurpose, purposeColumn: nil),
        Column(table: "gateway_secrets", idColumn: "name", sealedColumn: "sealed", purpose: nil, purposeColumn: "name"),
        Column(
            table: "checkout_intents", idColumn: "id", sealedColumn: "checkout_token_sealed", purpose: CheckoutLink.sealPurpose, purposeColumn: nil),
    ]

    /// Rows read per query while scanning a column: bounded memory whatever the table's size.
    static let pageSize = 500

    /// One sealed value as stored.
    struct Sealed: Sendable {
        let id: String
        let sealed: String
        let purpose: String
    }

    /// The sealed values of `column` after id `after`, at most `limit`, in id order.
    static func page(_ column: Column, after: String?, limit: Int, on db: any SQLDatabase) async throws -> [Sealed] {
        let purposeSelect = column.purposeColumn.map { ", \($0) AS purpose" } ?? ""
        let rows = try await db.raw(
            """
            SELECT \(unsafeRaw: column.idColumn) AS id, \(unsafeRaw: column.sealedColumn) AS sealed\(unsafeRaw: purposeSelect)
            FROM \(unsafeRaw: column.table)
            WHERE \(unsafeRaw: column.sealedColumn) IS NOT NULL AND \(unsafeRaw: column.idColumn) > \(bind: after ?? "")
            ORDER BY \(unsafeRaw: column.idColumn) LIMIT \(bind: limit)
            """
        ).all()
        return try rows.map { row in
            Sealed(
                id: try row.decode(column: "id", as: String.self), sealed: try row.decode(column: "sealed", as: String.self),
                purpose: try column.purpose ?? row.decode(column: "purpose", as: String.self))
        }
    }

    /// Calls `body` with every sealed value of every column, page by page.
    static func forEachPage(on db: any SQLDatabase, _ body: (Column, [Sealed]) async throws -> Void) async throws {
        for column in columns {
            var after: String?
            while true {
                let page = try await page(column, after: after, limit: pageSize, on: db)
                guard let last = page.last else { break }
                try await body(column, page)
                after = last.id
                if page.count < pageSize { break }
            }
        }
    }

    // MARK: Checking keys

    /// Which of some candidate keys open a database's sealed secrets.
    public struct Tally: Sendable, Equatable {
        /// Sealed values in the database.
        public var total = 0
        /// Per table, the sealed values it holds.
        public var totalByTable: [String: Int] = [:]
        /// Per candidate key (in the order given), how many values it opens.
        public var openedBy: [Int]
        /// Values no candidate opens.
        public var openedByNone = 0
        /// Some of those, as `table id`, to act on.
        public var examplesOpenedByNone: [String] = []

        init(keys: Int) { openedBy = Array(repeating: 0, count: keys) }

        /// The index of the candidate that opens every value (a database with no sealed
        /// values is opened by the first); nil when none does, as when it is partly sealed
        /// under some other key.
        public var keyOpeningEverything: Int? {
            guard total > 0 else { return openedBy.isEmpty ? nil : 0 }
            return openedBy.firstIndex(of: total)
        }
    }

    /// Tries every sealed value with each of `keys`. Reads only; the scan is not one snapshot,
    /// so run it while nothing rotates the key (the rotation procedure stops every gateway).
    public static func tally(keys: [SecretBox], on db: any SQLDatabase) async throws -> Tally {
        var tally = Tally(keys: keys.count)
        try await forEachPage(on: db) { column, page in
            for value in page {
                tally.total += 1
                tally.totalByTable[column.table, default: 0] += 1
                var opened = false
                for (index, key) in keys.enumerated() where (try? key.open(value.sealed, purpose: value.purpose)) != nil {
                    tally.openedBy[index] += 1
                    opened = true
                }
                if !opened {
                    tally.openedByNone += 1
                    if tally.examplesOpenedByNone.count < 5 { tally.examplesOpenedByNone.append("\(column.table) \(value.id)") }
                }
            }
        }
        return tally
    }

    /// ``tally(keys:on:)`` on a database client.
    public static func tally(keys: [SecretBox], in database: any DatabaseClient) async throws -> Tally {
        try await database.read { db in try await tally(keys: keys, on: db) }
    }

    // MARK: Rotating the master key

    /// Re-seals every sealed value from `current` to `new` in ONE transaction on `database`:
    /// a crash or a kill before the commit leaves every value under `current`, after it every
    /// value under `new`. Throws ``RotationRefused`` (and writes nothing) when `current` does
    /// not open them all. Returns the values re-sealed per table.
    ///
    /// On PostgreSQL the sealed tables are locked against writes for the transaction, so a
    /// secret written meanwhile cannot be left behind under the old key.
    public static func rotate(from current: SecretBox, to new: SecretBox, in database: any DatabaseClient) async throws -> [String: Int] {
        let dialect = database.dialect
        return try await database.transaction { db in
            if dialect == .postgres {
                try await db.raw(
                    "LOCK TABLE \(unsafeRaw: columns.map(\.table).joined(separator: ", ")) IN EXCLUSIVE MODE"
                ).run()
            }
            var resealed: [String: Int] = [:]
            var refused: [String: Int] = [:]
            var examples: [String] = []
            try await forEachPage(on: db) { column, page in
                for value in page {
                    guard let plaintext = try? current.open(value.sealed, purpose: value.purpose) else {
                        refused[column.table, default: 0] += 1
                        if examples.count < 5 { examples.append("\(column.table) \(value.id)") }
                        continue
                    }
                    // Once something is refused the transaction is rolled back: stop writing.
                    guard refused.isEmpty else { continue }
                    try await db.raw(
                        """
                        UPDATE \(unsafeRaw: column.table) SET \(unsafeRaw: column.sealedColumn) = \(bind: try new.seal(plaintext, purpose: value.purpose))
                        WHERE \(unsafeRaw: column.idColumn) = \(bind: value.id)
                        """
                    ).run()
                    resealed[column.table, default: 0] += 1
                }
            }
            guard refused.isEmpty else { throw RotationRefused(unopened: refused, examples: examples) }
            return resealed
        }
    }
}

/// The current master key does not open every sealed value, so nothing was re-sealed (a
/// rotation that skipped them would lose them for good).
public struct RotationRefused: Error, Sendable, CustomStringConvertible {
    /// Per table, the values the current key does not open.
    public let unopened: [String: Int]
    /// Some of them, as `table id`.
    public let examples: [String]

    public var description: String {
        let counts = unopened.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
            the current master key does not open every sealed secret (\(counts); e.g. \(examples.joined(separator: ", "))), \
            so nothing was re-sealed. Run `stablegate keys verify-master` with the candidate keys to find the one they are sealed \
            under.
            """
    }
}

extension SecretBox {
    /// A short public name for this key (HMAC-SHA-256 of a fixed label under it, 8 hex
    /// digits): tells keys apart in output without revealing anything that opens secrets.
    public var fingerprint: String {
        fingerprintBytes.prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
