import StableGateDomain
import Testing

@Suite("Ledger rules (pure)")
struct LedgerBookTests {
    static let asset = LedgerAsset(chainId: 56, token: "0xABC")

    @Test("Transfers are balanced pairs; zero amounts and self-payments are refused")
    func transfers() throws {
        let transfer = try LedgerTransfer(
            reference: "r", kind: .deposit, asset: Self.asset, from: .custodyInflow, to: .shopper("a"), amount: DecimalAmount("1.5")!)
        let pair = LedgerEntry.pair(transfer)
        #expect(pair.map(\.side) == [.debit, .credit] && pair.map(\.amount) == [DecimalAmount("1.5")!, DecimalAmount("1.5")!])
        #expect(pair[0].asset.token == "0xabc")
        #expect(throws: LedgerError.self) {
            try LedgerTransfer(reference: "r", kind: .deposit, asset: Self.asset, from: .custodyInflow, to: .shopper("a"), amount: .zero)
        }
        #expect(throws: LedgerError.self) {
            try LedgerTransfer(reference: "r", kind: .deposit, asset: Self.asset, from: .shopper("a"), to: .shopper("a"), amount: DecimalAmount("1")!)
        }
        #expect(throws: LedgerError.self) {
            try LedgerTransfer(reference: "", kind: .deposit, asset: Self.asset, from: .custodyInflow, to: .shopper("a"), amount: DecimalAmount("1")!)
        }
    }

    @Test("Account codes round-trip")
    func codes() {
        for account in [LedgerAccount.shopper("6b0f"), .custodyInflow, .paymentsInFlight, .withdrawalsInFlight, .custodyOutflow] {
            #expect(LedgerAccount(code: account.code) == account)
        }
        #expect(LedgerAccount(code: "shopper:") == nil && LedgerAccount(code: "bank:1") == nil)
    }

    @Test("Violations: an unbalanced posting and an overdrawn shopper are reported")
    func violations() throws {
        let good = LedgerEntry.pair(
            try LedgerTransfer(
                reference: "d", kind: .deposit, asset: Self.asset, from: .custodyInflow, to: .shopper("a"), amount: DecimalAmount("5")!))
        #expect(LedgerBook.violations(good).isEmpty)
        let overdrawn =
            good
            + LedgerEntry.pair(
                try LedgerTransfer(
                    reference: "p", kind: .paymentApproved, asset: Self.asset, from: .shopper("a"), to: .paymentsInFlight, amount: DecimalAmount("6")!
                ))
        #expect(LedgerBook.violations(overdrawn) == ["shopper:a is below zero in 0xabc on chain 56"])
        let unbalanced = good + [LedgerEntry(reference: "x", account: .shopper("a"), asset: Self.asset, side: .credit, amount: DecimalAmount("1")!)]
        #expect(LedgerBook.violations(unbalanced) == ["posting x is not one debit and one equal credit"])
        #expect(
            DecimalAmount("1.5")!.subtracting(DecimalAmount("0.25")!) == DecimalAmount("1.25")
                && DecimalAmount("1")!.subtracting(DecimalAmount("1.01")!) == nil)
    }
}
