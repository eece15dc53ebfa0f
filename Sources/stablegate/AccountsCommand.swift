import ArgumentParser
import StableGateApp
import StableGateDomain
import StableGateStore

/// `stablegate accounts …`: shopper accounts ("Pay with StableGate account") and their ledger.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Inspect shopper accounts and check their ledger.", subcommands: [List.self, LedgerCheck.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One JSON line per account: id, e-mail, deposit address, balances per chain and token, transfers not yet final.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let lines = try await global.withEnvironment { environment -> [String] in
                let accounts = ShopperAccountRepository(database: environment.database)
                let ledger = LedgerRepository(database: environment.database)
                var lines: [String] = []
                for account in try await accounts.allAccounts() {
                    let balances = try await ledger.balances(of: account.ledgerAccount).sorted {
                        ($0.key.chainId, $0.key.token) < ($1.key.chainId, $1.key.token)
                    }
                    let transfers = try await accounts.transfers(accountId: account.id)
                    lines.append(
                        JSONValue.object([
                            ("id", .string(account.id)), ("email", .string(account.email)), ("deposit_address", .string(account.depositAddress)),
                            (
                                "balances",
                                .array(
                                    balances.map { asset, amount in
                                        .object([
                                            ("chain_id", .int(asset.chainId)), ("token", .string(asset.token)),
                                            ("balance", .string(amount.plainString())),
                                        ])
                                    })
                            ),
                            (
                                "transfers",
                                .array(
                                    transfers.map { transfer in
                                        .object([
                                            ("id", .string(transfer.id)), ("kind", .string(transfer.kind.rawValue)),
                                            ("state", .string(transfer.state.rawValue)),
                                            ("chain_id", .int(transfer.chainId)), ("amount", .string(transfer.decimalAmount.plainString())),
                                            ("to", .string(transfer.to)),
                                            ("intent_id", .stringOrNull(transfer.intentId)), ("last_error", .stringOrNull(transfer.lastError)),
                                        ])
                                    })
                            ),
                        ]).serialized)
                }
                return lines
            }
            for line in lines { print(line) }
        }
    }

    struct LedgerCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger-check",
            abstract:
                "Check the ledger: balanced postings, no negative shopper balance, deposits and transfers matching their postings. Exits 1 on any problem."
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try await global.withEnvironment { environment in try await LedgerAudit(environment: environment).run() }
            print("postings \(report.postings), entries \(report.entries)")
            for line in report.gatewayBalances { print("\(line.account) chain \(line.chainId) \(line.token): \(line.balance)") }
            for problem in report.problems { print("PROBLEM: \(problem)") }
            if !report.problems.isEmpty { throw ExitCode(1) }
            print("ledger OK")
        }
    }
}
