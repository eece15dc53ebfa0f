import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGateStore
import StableGateTestSupport
import Testing

@testable import StableGatePayments

/// The shopper-account sender against a real EVM: a withdrawal leaves the account's wallet once
/// (gas topped up from the hot wallet) and settles the ledger; a transfer that cannot be made is
/// retried, then returned to the balance, never sent.
@Suite("Account transfers on chain", .serialized)
struct ShopperTransferSenderTests {
    static let chain = Result { try SandboxChain.start() }

    struct Context {
        let sender: ShopperTransferSender
        let accounts: ShopperAccountRepository
        let signedTransactions: SignedTransactionRepository
        let ledger: LedgerRepository
        let account: ShopperAccount
        let rpc: EthereumRPC
        let token: EthereumAddress
        let clock: ManualClock
        let chainId: Int64
    }

    func with(_ body: (Context) async throws -> Void) async throws {
        let chain = try Self.chain.get()
        let served = chain.chains[0]
        let configuration = try #require(try ChainsFile.parse(Array(try String(contentsOfFile: chain.chainsFile, encoding: .utf8).utf8)).first)
        let identifiers = SystemIdentifierGenerator()
        let wallets = try GatewayWallets(
            depositSeed: identifiers.randomBytes(32), hotWalletKey: try #require(Hex.decode(served.accounts[9].privateKey)), feeAddress: nil)
        try await TestDatabase.withClient(.sqlite) { database in
            let accounts = ShopperAccountRepository(database: database)
            let clock = ManualClock(Date())
            let account = try await accounts.create(
                id: identifiers.objectId(at: clock.now), email: "ada@example.com", passwordHash: "$2b$04$x", at: clock.now,
                address: { try wallets.accountAddress(index: $0).lowercased })
            let rpc = EthereumRPC(url: served.rpcURL)
            let sender = ShopperTransferSender(
                chain: configuration, rpc: rpc, accounts: accounts, database: database,
                intents: CheckoutIntentRepository(database: database), wallets: wallets, clock: clock,
                identifiers: identifiers, logger: testLogger)
            try await body(
                Context(
                    sender: sender, accounts: accounts,
                    signedTransactions: SignedTransactionRepository(database: database, table: .accountTransfers),
                    ledger: LedgerRepository(database: database), account: account, rpc: rpc,
                    token: try #require(EthereumAddress(served.tokens["USDT"]!.contract)), clock: clock, chainId: served.chainId))
            try await expectLedgerSound(LedgerRepository(database: database))
        }
    }

    /// Credits the account with a confirmed deposit of `units`, optionally without the tokens
    /// arriving on chain (to make a transfer that cannot be made).
    func credit(_ context: Context, units: BigUInt, onChain: Bool) async throws {
        let chain = try Self.chain.get()
        var hash = "0x" + SystemIdentifierGenerator().randomBytes(32).hexString
        if onChain {
            hash = try await TokenTransferSender(rpc: context.rpc, chainId: UInt64(context.chainId)).send(
                token: context.token, to: try #require(EthereumAddress(context.account.depositAddress)), amount: units,
                privateKey: try #require(Hex.decode(chain.chains[0].accounts[1].privateKey)))
        }
        let deposit = AccountDeposit(
            id: SystemIdentifierGenerator().objectId(at: context.clock.now), accountId: context.account.id, chainId: context.chainId,
            transactionHash: hash, logIndex: 0, blockNumber: 1, blockHash: "0x01", tokenContract: context.token.lowercased, decimals: 6,
            from: chain.chains[0].accounts[1].address.lowercased(), amount: units, state: .seen, detectedAt: context.clock.now)
        try await context.accounts.recordSeen(deposit)
        try await context.accounts.confirm(deposit, at: context.clock.now)
    }

    /// Approves a withdrawal of `units` from the account to a fresh random address.
    func approveWithdrawal(_ context: Context, units: BigUInt) async throws -> (transfer: AccountTransfer, recipient: EthereumAddress) {
        let recipient = try #require(EthereumAddress(bytes: SystemIdentifierGenerator().randomBytes(20)))
        let transfer = AccountTransfer(
            id: SystemIdentifierGenerator().objectId(at: context.clock.now), kind: .withdrawal, accountId: context.account.id,
            chainId: context.chainId,
            tokenContract: context.token.lowercased, decimals: 6, amount: units, to: recipient.lowercased, intentId: nil, state: .approved,
            nextAttemptAt: context.clock.now, createdAt: context.clock.now, updatedAt: context.clock.now)
        try await context.accounts.approve(transfer)
        return (transfer, recipient)
    }

    @Test("A withdrawal tops up gas, leaves the account's wallet once and settles the ledger")
    func withdrawalIsSentOnce() async throws {
        try await with { context in
            try await credit(context, units: 10_000_000, onChain: true)
            let (transfer, recipient) = try await approveWithdrawal(context, units: 4_000_000)
            let chain = try Self.chain.get()
            for _ in 0..<8 {
                try await context.sender.run()
                if try await context.accounts.transfer(id: transfer.id)?.state == .sent { break }
                // Blocks keep coming on a real chain; the payout is final only with its confirmations.
                try await chain.mine(1)
            }
            #expect(try await context.accounts.transfer(id: transfer.id)?.state == .sent)
            // More passes find nothing to do: nothing is sent twice.
            try await context.sender.run()
            #expect(try await context.rpc.tokenBalance(token: context.token, owner: recipient) == 4_000_000)
            let wallet = try #require(EthereumAddress(context.account.depositAddress))
            #expect(try await context.rpc.tokenBalance(token: context.token, owner: wallet) == 6_000_000)
            let kinds = try await context.signedTransactions.transactions(owner: transfer.id).map(\.kind)
            #expect(kinds.filter { $0 == .payout }.count == 1)
            #expect(kinds.contains(.gas), "the account's wallet had no gas of its own")
            #expect(try await context.ledger.balance(of: context.account.ledgerAccount, asset: transfer.asset) == DecimalAmount("6"))
            #expect(try await context.ledger.totals(of: .withdrawalsInFlight, asset: transfer.asset).balance == .zero)
        }
    }

    @Test("A transfer the wallet cannot make is retried with back-off, then returned to the balance, never sent")
    func impossibleTransferIsReturned() async throws {
        try await with { context in
            try await credit(context, units: 5_000_000, onChain: false)
            let (transfer, recipient) = try await approveWithdrawal(context, units: 5_000_000)
            #expect(try await context.ledger.balance(of: context.account.ledgerAccount, asset: transfer.asset) == .zero)
            try await context.sender.run()
            let postponed = try #require(try await context.accounts.transfer(id: transfer.id))
            #expect(postponed.state == .approved && postponed.attempts == 1)
            #expect(postponed.lastError?.contains("fewer than 5000000") == true)
            #expect(postponed.nextAttemptAt > context.clock.now, "backs off")
            for _ in 0..<OutgoingTransactions.maximumAttempts {
                context.clock.advance(by: 601)
                try await context.sender.run()
            }
            #expect(try await context.accounts.transfer(id: transfer.id)?.state == .failed)
            #expect(try await context.ledger.balance(of: context.account.ledgerAccount, asset: transfer.asset) == DecimalAmount("5"))
            #expect(try await context.signedTransactions.transactions(owner: transfer.id).isEmpty, "nothing was ever signed")
            #expect(try await context.rpc.tokenBalance(token: context.token, owner: recipient) == 0)
        }
    }
}
