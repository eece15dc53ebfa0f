import StableGateDomain
import StableGateStore

/// Checks the shopper-account ledger against itself and against the records it mirrors:
///
/// - every posting is one debit and one equal credit, and no shopper balance is below zero;
/// - every confirmed deposit is credited, and nothing else is credited as a deposit;
/// - every transfer has its approval debit; a sent one its settlement, a failed one its return,
///   an open one neither — so in-flight balances equal what is still on its way.
///
/// `stablegate accounts ledger-check` prints the result; the tests run it after every test.
public struct LedgerAudit: Sendable {
    let accounts: ShopperAccountRepository
    let ledger: LedgerRepository

    public init(environment: GatewayEnvironment) {
        accounts = ShopperAccountRepository(database: environment.database)
        ledger = LedgerRepository(database: environment.database)
    }

    /// What was checked, and everything found wrong (empty when sound).
    public struct Report: Sendable {
        public var postings = 0
        public var entries = 0
        public var problems: [String] = []
        /// Balances of the gateway's own accounts per asset, credits − debits as text (may be negative).
        public var gatewayBalances: [(account: String, chainId: Int64, token: String, balance: String)] = []
    }

    public func run() async throws -> Report {
        let entries = try await ledger.entries()
        var report = Report()
        report.entries = entries.count
        report.problems = LedgerBook.violations(entries)
        let (transfers, deposits, references) = try await accounts.auditSnapshot()
        report.postings = references.count
        for deposit in deposits where !references.contains(deposit.ledgerReference) {
            report.problems.append("confirmed deposit \(deposit.ledgerReference) is not credited")
        }
        let depositReferences = Set(deposits.map(\.ledgerReference))
        for reference in references where reference.hasPrefix("deposit:") && !depositReferences.contains(reference) {
            report.problems.append("\(reference) is credited but no confirmed deposit matches it")
        }
        for transfer in transfers {
            let base = "account-transfer:\(transfer.id)"
            let settled = references.contains(base + ":settled"), returned = references.contains(base + ":returned")
            if !references.contains(base) { report.problems.append("transfer \(transfer.id) has no approval debit") }
            let consistent =
                switch transfer.state {
                case .approved, .sending: !settled && !returned
                case .sent: settled && !returned
                case .failed: returned && !settled
                }
            if !consistent {
                report.problems.append(
                    "transfer \(transfer.id) is \(transfer.state.rawValue) but the ledger has settled=\(settled) returned=\(returned)")
            }
        }
        for (account, assets) in LedgerBook.totals(entries) where !account.mustStayNonNegative {
            for (asset, totals) in assets.sorted(by: { $0.key.token < $1.key.token }) {
                let balance = totals.balance.map { $0.plainString() } ?? "-" + (totals.debits.subtracting(totals.credits)?.plainString() ?? "?")
                report.gatewayBalances.append((account.code, asset.chainId, asset.token, balance))
            }
        }
        return report
    }
}
