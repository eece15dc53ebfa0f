import BigInt
import Foundation
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// Shopper accounts in the store, on SQLite and PostgreSQL: logins, deposits credited exactly
/// once, approvals that debit with their transfer or not at all, endings posted once. The
/// ledger's invariants are checked after every test.
@Suite("Shopper accounts: deposits, approvals and endings move money exactly once")
struct ShopperAccountTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let token = "0xf2e246bb76df876cef8b38ae84130f4f55de395b"

    static func address(_ index: Int64) -> String { "0x" + String(repeating: "0", count: 32) + String(format: "%08x", index + 1) }

    static func makeAccount(_ repository: ShopperAccountRepository, email: String) async throws -> ShopperAccount {
        try await repository.create(
            id: SystemIdentifierGenerator().objectId(at: now), email: email, passwordHash: "$2b$04$hash", at: now, address: address)
    }

    static func deposit(_ account: ShopperAccount, units: BigUInt, tx: String, block: Int64 = 10) -> AccountDeposit {
        AccountDeposit(
            id: SystemIdentifierGenerator().objectId(at: now), accountId: account.id, chainId: 1337, transactionHash: tx, logIndex: 0,
            blockNumber: block,
            blockHash: "0xb\(block)", tokenContract: token, decimals: 6, from: address(99), amount: units, state: .seen, detectedAt: now)
    }

    static func withdrawal(_ account: ShopperAccount, units: BigUInt, id: String = SystemIdentifierGenerator().objectId(at: now)) -> AccountTransfer {
        AccountTransfer(
            id: id, kind: .withdrawal, accountId: account.id, chainId: 1337, tokenContract: token, decimals: 6, amount: units, to: address(77),
            intentId: nil, state: .approved, nextAttemptAt: now, createdAt: now, updatedAt: now)
    }

    /// Runs `body` with the account repository and the ledger of a fresh, migrated database,
    /// then checks the ledger's invariants.
    static func withAccounts(_ backend: Backend, _ body: (ShopperAccountRepository, LedgerRepository) async throws -> Void) async throws {
        try await TestDatabase.withClient(backend) { database in
            let ledger = LedgerRepository(database: database)
            try await body(ShopperAccountRepository(database: database), ledger)
            try await expectLedgerSound(ledger)
        }
    }

    static var asset: LedgerAsset { LedgerAsset(chainId: 1337, token: token) }

    @Test("Accounts get their own derivation index and address; an e-mail address is taken once, whatever its case", arguments: Backend.available)
    func accounts(backend: Backend) async throws {
        try await Self.withAccounts(backend) { repository, _ in
            let first = try await Self.makeAccount(repository, email: "Ada@Example.com")
            let second = try await Self.makeAccount(repository, email: "bob@example.com")
            #expect(first.email == "ada@example.com")
            #expect(first.derivationIndex != second.derivationIndex)
            #expect(first.depositAddress == Self.address(first.derivationIndex))
            await #expect(throws: ShopperAccountRepository.EmailTaken.self) { try await Self.makeAccount(repository, email: "ADA@example.com") }
            #expect(try await repository.accounts(forAddresses: [first.depositAddress, Self.address(500)]) == [first.depositAddress: first.id])
            #expect(try await repository.account(email: "ada@EXAMPLE.com")?.id == first.id)
        }
    }

    @Test("A deposit is credited once when confirmed, however often it is seen or confirmed; a dropped one never", arguments: Backend.available)
    func deposits(backend: Backend) async throws {
        try await Self.withAccounts(backend) { repository, ledger in
            let account = try await Self.makeAccount(repository, email: "ada@example.com")
            let credited = Self.deposit(account, units: 25_500_000, tx: "0xaa")
            let reorged = Self.deposit(account, units: 7_000_000, tx: "0xbb")
            try await repository.recordSeen(credited)
            try await repository.recordSeen(credited)  // the next pass sees it again
            try await repository.recordSeen(reorged)
            #expect(try await repository.seenDeposits(chainId: 1337).count == 2)
            #expect(try await ledger.balance(of: account.ledgerAccount, asset: Self.asset) == .zero, "nothing before confirmation")
            try await repository.confirm(credited, at: Self.now)
            try await repository.confirm(credited, at: Self.now)  // a second instance, a retried pass
            try await repository.drop(reorged)
            #expect(try await ledger.balance(of: account.ledgerAccount, asset: Self.asset) == DecimalAmount("25.5"))
            #expect(try await repository.seenDeposits(chainId: 1337).isEmpty)
            // The reorged transfer reappears in a new block: seen again, then credited once.
            var again = reorged
            again.blockNumber = 12
            try await repository.recordSeen(again)
            let revived = try #require(try await repository.seenDeposits(chainId: 1337).first)
            #expect(revived.blockNumber == 12)
            try await repository.confirm(revived, at: Self.now)
            #expect(try await ledger.balances(of: account.ledgerAccount) == [Self.asset: DecimalAmount("32.5")!])
        }
    }

    @Test("An approval writes its debit and its transfer together or not at all; an ending is posted once", arguments: Backend.available)
    func approvals(backend: Backend) async throws {
        try await Self.withAccounts(backend) { repository, ledger in
            let account = try await Self.makeAccount(repository, email: "ada@example.com")
            let deposit = Self.deposit(account, units: 10_000_000, tx: "0xaa")
            try await repository.recordSeen(deposit)
            try await repository.confirm(deposit, at: Self.now)

            // More than the balance: refused, and no transfer row is left behind.
            await #expect(throws: LedgerError.self) { try await repository.approve(Self.withdrawal(account, units: 10_000_001)) }
            #expect(try await repository.transfers(accountId: account.id).isEmpty)

            // The same approval twice (a resent confirmation) is one transfer and one debit.
            let sent = Self.withdrawal(account, units: 4_000_000)
            try await repository.approve(sent)
            try await repository.approve(sent)
            #expect(try await repository.transfers(accountId: account.id).count == 1)
            #expect(try await ledger.balance(of: account.ledgerAccount, asset: Self.asset) == DecimalAmount("6"))
            #expect(try await ledger.balance(of: .withdrawalsInFlight, asset: Self.asset) == DecimalAmount("4"))

            var done = sent
            done.state = .sent
            try await repository.finish(done, at: Self.now)
            try await repository.finish(done, at: Self.now)  // idempotent by its posting
            #expect(try await ledger.totals(of: .withdrawalsInFlight, asset: Self.asset).balance == .zero)

            var failed = Self.withdrawal(account, units: 6_000_000)
            try await repository.approve(failed)
            #expect(try await ledger.balance(of: account.ledgerAccount, asset: Self.asset) == .zero)
            await #expect(throws: LedgerError.self) { try await repository.approve(Self.withdrawal(account, units: 1)) }
            failed.state = .failed
            try await repository.finish(failed, at: Self.now)
            #expect(try await ledger.balance(of: account.ledgerAccount, asset: Self.asset) == DecimalAmount("6"))
            #expect(try await repository.transfers(accountId: account.id).map(\.state).sorted { $0.rawValue < $1.rawValue } == [.failed, .sent])
            let audit = try await repository.auditSnapshot()
            #expect(audit.references.count == 5, "deposit, two approvals, one settlement, one return")
        }
    }
}
