import Foundation
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// The shopper-account ledger on SQLite and PostgreSQL: balanced postings, balances as sums,
/// idempotent references, no overdraft even under concurrent debits — invariants checked after
/// every test.
@Suite("Ledger: double entry, idempotent, never overdrawn")
struct LedgerTests {
    static let usdt = LedgerAsset(chainId: 56, token: "0x55d398326f99059fF775485246999027B3197955")
    static let usdc = LedgerAsset(chainId: 1, token: "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
    static let alice = LedgerAccount.shopper("6b0000000000000000000a11")
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func transfer(
        _ reference: String, _ amount: String, kind: LedgerTransferKind = .deposit, from: LedgerAccount = .custodyInflow,
        to: LedgerAccount = alice, asset: LedgerAsset = usdt
    ) throws -> LedgerTransfer {
        try LedgerTransfer(reference: reference, kind: kind, asset: asset, from: from, to: to, amount: DecimalAmount(amount)!)
    }

    /// Runs `body` with the ledger of a fresh, migrated database, then checks the ledger's invariants.
    static func withLedger(_ backend: Backend, _ body: (LedgerRepository) async throws -> Void) async throws {
        try await TestDatabase.withClient(backend) { database in
            let ledger = LedgerRepository(database: database)
            try await body(ledger)
            try await expectLedgerSound(ledger)
        }
    }

    @Test("Deposits credit, payments debit, balances are exact sums per chain and token", arguments: Backend.available)
    func balances(backend: Backend) async throws {
        try await Self.withLedger(backend) { ledger in
            #expect(try await ledger.record(try Self.transfer("deposit:56:0xaa:0", "100.000000000000000001"), at: Self.now) == .recorded)
            try await ledger.record(try Self.transfer("deposit:1:0xbb:3", "5.5", asset: Self.usdc), at: Self.now)
            try await ledger.record(
                try Self.transfer("pay:6b01", "12.5", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight), at: Self.now)
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdt) == DecimalAmount("87.500000000000000001"))
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdc) == DecimalAmount("5.5"))
            #expect(
                try await ledger.totals(of: .custodyInflow, asset: Self.usdt)
                    == .init(credits: .zero, debits: DecimalAmount("100.000000000000000001")!))
            #expect(try await ledger.entries(account: Self.alice).map(\.side) == [.credit, .credit, .debit])
        }
    }

    @Test("A reference is recorded once: the same transfer again changes nothing, a different one is refused", arguments: Backend.available)
    func idempotent(backend: Backend) async throws {
        try await Self.withLedger(backend) { ledger in
            let deposit = try Self.transfer("deposit:56:0xaa:0", "10")
            #expect(try await ledger.record(deposit, at: Self.now) == .recorded)
            #expect(try await ledger.record(deposit, at: Self.now.addingTimeInterval(60)) == .alreadyRecorded)
            await #expect(throws: LedgerError.referenceConflict("deposit:56:0xaa:0")) {
                try await ledger.record(try Self.transfer("deposit:56:0xaa:0", "11"), at: Self.now)
            }
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdt) == DecimalAmount("10"))
        }
    }

    @Test("A debit larger than the balance is refused and writes nothing", arguments: Backend.available)
    func insufficientFunds(backend: Backend) async throws {
        try await Self.withLedger(backend) { ledger in
            try await ledger.record(try Self.transfer("deposit:56:0xaa:0", "10"), at: Self.now)
            await #expect(
                throws: LedgerError.insufficientFunds(account: Self.alice.code, balance: DecimalAmount("10")!, needed: DecimalAmount("10.000001")!)
            ) {
                try await ledger.record(
                    try Self.transfer("pay:1", "10.000001", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight), at: Self.now)
            }
            // Another chain's money does not pay for this one.
            try await ledger.record(try Self.transfer("deposit:1:0xbb:0", "50", asset: Self.usdc), at: Self.now)
            await #expect(throws: LedgerError.self) {
                try await ledger.record(
                    try Self.transfer("pay:2", "11", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight), at: Self.now)
            }
            #expect(try await ledger.entries().count == 4, "only the two deposits' entries")
            #expect(
                try await ledger.record(
                    try Self.transfer("pay:3", "10", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight), at: Self.now) == .recorded)
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdt) == .zero)
        }
    }

    @Test("Concurrent payments from one balance (double-click, two tabs, two instances) never overdraw it", arguments: Backend.available)
    func concurrentDebits(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let first = try await test.open()
            let second = try await test.open(migrate: false)
            try await LedgerRepository(database: first).record(try Self.transfer("deposit:56:0xaa:0", "100"), at: Self.now)
            // Twenty attempts to spend 30 each, half through each client: at most three succeed.
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    let ledger = LedgerRepository(database: index % 2 == 0 ? first : second)
                    let transfer = try Self.transfer("pay:\(index)", "30", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight)
                    group.addTask {
                        do {
                            try await ledger.record(transfer, at: Self.now)
                            return true
                        } catch LedgerError.insufficientFunds {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 3)
            let ledger = LedgerRepository(database: first)
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdt) == DecimalAmount("10"))
            // The same approval sent twice at once is one payment.
            let twice = try Self.transfer("pay:same", "10", kind: .paymentApproved, from: Self.alice, to: .paymentsInFlight)
            async let a = LedgerRepository(database: first).record(twice, at: Self.now)
            async let b = LedgerRepository(database: second).record(twice, at: Self.now)
            let results = try await [a, b]
            #expect(results.sorted { "\($0)" < "\($1)" } == [.alreadyRecorded, .recorded])
            #expect(try await ledger.balance(of: Self.alice, asset: Self.usdt) == .zero)
            try await expectLedgerSound(ledger)
            await first.shutdown()
            await second.shutdown()
        }
    }
}
