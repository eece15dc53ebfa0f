import BigInt
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore
import StableGateTestSupport
import Testing

/// Payments end to end, in process: the gateway built by `buildApplication` with its chain
/// watchers and sweepers running against a real EVM (the sandbox chain), on SQLite and
/// PostgreSQL. Customers pay with transactions signed by their own keys; outcomes are checked
/// on chain (balances) and through the API.
@Suite("Payments on chain", .serialized)
struct PaymentFlowTests {
    static let chain = Result { try SandboxChain.start(confirmations: 2, pollIntervalMilliseconds: 100) }

    /// Everything a payment test needs.
    struct Context {
        let harness: GatewayHarness
        let chain: SandboxChain
        let merchantWallet: String
        let feeWallet: String
    }

    static func randomAddress() -> String {
        EthereumAddress(bytes: SystemIdentifierGenerator().randomBytes(20))!.checksummed
    }

    /// A gateway watching the sandbox chain, whose store forwards to a fresh wallet.
    func with(
        _ backend: Backend, clock: any WallClock = SystemClock(), kytDenylist: [String]? = nil, paymentWindow: TimeInterval = 1800,
        _ body: (Context) async throws -> Void
    ) async throws {
        let chain = try Self.chain.get()
        let feeWallet = Self.randomAddress()
        let denylistPath = FileManager.default.temporaryDirectory.appendingPathComponent("sg-denylist-\(UUID()).txt").path
        if let kytDenylist { try kytDenylist.joined(separator: "\n").write(toFile: denylistPath, atomically: true, encoding: .utf8) }
        defer { try? FileManager.default.removeItem(atPath: denylistPath) }
        try await GatewayHarness.with(
            backend,
            configure: { configuration in
                configuration.chainsFile = chain.chainsFile
                configuration.hotWalletKey = chain.chains[0].accounts[9].privateKey
                configuration.feeWallet = feeWallet
                configuration.paymentWindow = paymentWindow
                configuration.expiryInterval = .milliseconds(100)
                configuration.passwordHashCost = 4
                if kytDenylist != nil { configuration.screening = .denylist(path: denylistPath) }
            }, clock: clock
        ) { harness in
            let wallet = Self.randomAddress()
            var store = try #require(try await harness.environment.merchants.store(id: harness.merchant.storeId))
            store.walletAddress = wallet
            try await harness.environment.merchants.update(store)
            try await body(Context(harness: harness, chain: chain, merchantWallet: wallet, feeWallet: feeWallet))
        }
    }

    /// ``with(_:clock:kytDenylist:paymentWindow:_:)``, running `body` with a client of the gateway's router too.
    func withClient(
        _ backend: Backend, clock: any WallClock = SystemClock(), kytDenylist: [String]? = nil,
        _ body: @Sendable (Context, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await with(backend, clock: clock, kytDenylist: kytDenylist) { context in
            try await context.harness.test { client in try await body(context, client) }
        }
    }

    /// ``withClient(_:clock:kytDenylist:_:)`` on a manual clock set to now, which `body` gets to move.
    func withManualClock(_ backend: Backend, _ body: @Sendable (Context, any TestClientProtocol, ManualClock) async throws -> Void) async throws {
        let clock = ManualClock(Date())
        try await withClient(backend, clock: clock) { context, client in try await body(context, client, clock) }
    }

    /// ``withClient(_:clock:kytDenylist:_:)`` with a KYT denylist naming sandbox account
    /// `account` of the first chain, whose address `body` gets.
    func withDenylisted(
        _ backend: Backend, account: Int, _ body: @Sendable (Context, any TestClientProtocol, String) async throws -> Void
    ) async throws {
        let flagged = try Self.chain.get().chains[0].accounts[account].address
        try await withClient(backend, kytDenylist: ["# test list", flagged]) { context, client in try await body(context, client, flagged) }
    }

    /// Creates an intent and picks its network and coin, as the checkout page does.
    func intent(
        _ context: Context, client: any TestClientProtocol, body: String = #"{"stable_coin": 1, "amount_cents": 1000}"#, chain index: Int = 0
    ) async throws -> (id: String, deposit: String) {
        let created = try await client.send(
            SignedRequest(.post, "/v1/checkout_intents", body: body, as: context.harness.merchant, at: context.harness.clock))
        let id = try #require(created.string("allscale_checkout_intent_id"), "\(created.text)")
        let chainId = context.chain.chains[index].chainId
        let selected = try await client.send(
            uri: "\(try await context.harness.checkoutPath(id))/deposit", method: .post, body: #"{"chain_id": \#(chainId), "stable_coin": 1}"#)
        let deposit = try #require(selected.string("deposit_address"), "\(selected.text)")
        #expect(selected.string("payment_uri")?.hasPrefix("ethereum:") == true)
        return (id, deposit)
    }

    /// A customer's transfer on the first chain (see ``pay(_:to:amount:token:chain:account:)``),
    /// then the two blocks that confirm it.
    func payAndConfirm(_ context: Context, to deposit: String, amount: String, token: String = "USDT", account: Int = 1) async throws {
        _ = try await pay(context, to: deposit, amount: amount, token: token, account: account)
        try await context.chain.mine(2)
    }

    /// A customer's transfer, signed with their own key.
    func pay(
        _ context: Context, to deposit: String, amount: String, token: String = "USDT", chain index: Int = 0, account: Int = 1
    ) async throws -> String {
        let served = context.chain.chains[index]
        let contract = try #require(served.tokens[token])
        let units = try #require(DecimalAmount(amount)?.baseUnits(decimals: contract.decimals))
        return try await TokenTransferSender(rpc: EthereumRPC(url: served.rpcURL), chainId: UInt64(served.chainId)).send(
            token: try #require(EthereumAddress(contract.contract)), to: try #require(EthereumAddress(deposit)), amount: units,
            privateKey: try #require(Hex.decode(served.accounts[account].privateKey)))
    }

    /// Polls `probe` until it returns a value, for up to `seconds`.
    func eventually<T>(_ what: String, seconds: Double = 30, _ probe: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try await probe() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("timed out waiting for \(what)")
    }

    /// Waits until the first chain transfer to intent `id` is confirmed.
    func waitForConfirmedTransfer(_ what: String, _ context: Context, _ id: String) async throws {
        try await eventually(what) {
            try await context.harness.environment.chainTransfers.transfers(intentId: id).first?.state == .confirmed ? true : nil
        }
    }

    func intentNow(_ context: Context, _ id: String) async throws -> CheckoutIntent {
        try #require(try await context.harness.environment.intents.find(id: id))
    }

    func waitFor(_ status: CheckoutStatus, settled: Bool = false, _ context: Context, _ id: String) async throws -> CheckoutIntent {
        try await eventually("\(status.name)\(settled ? " and settled" : "")") {
            let intent = try await intentNow(context, id)
            return intent.status == status && (!settled || intent.settlementStatus == .settled) ? intent : nil
        }
    }

    @Test("An exact payment is detected, confirmed, credited once and swept to the merchant", arguments: Backend.available)
    func exactPayment(backend: Backend) async throws {
        try await withClient(backend) { context, client in
            let (id, deposit) = try await intent(context, client: client, body: #"{"currency": 1, "amount_cents": 1000, "order_id": "chain-1"}"#)
            let feeBefore = try await context.chain.tokenBalance("USDT", of: context.feeWallet)
            let tx = try await pay(context, to: deposit, amount: "10.00")
            let onChain = try await eventually("ON_CHAIN") { try await intentNow(context, id).status == .onChain ? true : nil }
            #expect(onChain)
            try await context.chain.mine(2)
            let done = try await waitFor(.confirmed, settled: true, context, id)
            #expect(done.payment.txHash == tx)
            #expect(done.payment.txFrom == context.chain.chains[0].accounts[1].address.lowercased())
            #expect(done.payment.paymentMethodType == .walletScan)
            #expect(done.payment.actualPaidAmount == DecimalAmount("10"))
            #expect(done.payment.serviceFeeAmount == DecimalAmount("0.1"))
            #expect(done.payment.netIncomeAmount == DecimalAmount("9.9"))
            // On chain: the merchant got the net, the operator the fee, the deposit wallet is empty.
            #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) == 9_900_000)
            #expect(try await context.chain.tokenBalance("USDT", of: context.feeWallet) - feeBefore == 100_000)
            #expect(try await context.chain.tokenBalance("USDT", of: deposit) == 0)
            // The wire object tells the same story.
            let full = try await client.send(
                SignedRequest(.get, "/v1/checkout_intents/\(id)", as: context.harness.merchant, at: context.harness.clock))
            #expect(full.payload?["status"] == .number("20"))
            #expect(full.string("tx_hash") == tx)
            #expect(full.string("tx_hash_2")?.hasPrefix("0x") == true)
            #expect(full.string("tx_to") == context.merchantWallet)
            #expect(full.string("actual_paid_amount") == "10.00")
            #expect(full.string("service_fee_amount") == "0.10")
            #expect(full.string("net_income_amount") == "9.90")
            #expect(full.payload?["chain_id"] == .number(String(context.chain.chains[0].chainId)))
            #expect(full.string("coin_contract") == context.chain.chains[0].tokens["USDT"]!.contract)
            #expect(full.payload?["payment_method_type"] == .number("1"))
            #expect(full.string("settlement_status") == "settled")
            let merchantTx = try #require(full.string("tx_hash_2"))
            #expect(try await EthereumRPC(url: context.chain.chains[0].rpcURL).receipt(merchantTx)?.succeeded == true)
            // Counted once: one transfer row, one settlement.
            #expect(try await context.harness.environment.chainTransfers.transfers(intentId: id).count == 1)
            #expect(try await context.harness.environment.settlements.settlements(intentId: id).count == 1)
            let transitions = try await context.harness.environment.intents.transitions(intentId: id).map(\.to)
            #expect(transitions == [.created, .tempWalletReceived, .onChain, .confirmed])
            // The merchant's dashboard tells it too: the payment, the forwarding, the money.
            let browser = try await DashboardStoreTests.owner(context.harness, client)
            let page = try await browser.get("/dashboard/orders/\(id)")
            #expect(page.html.contains(tx) && page.html.contains(merchantTx))
            #expect(page.html.contains(">9.90<") && page.html.contains(">0.10<"))
            let csv = DashboardOrdersTests.parseCSV(try await browser.get("/dashboard/orders.csv?q=\(tx)").html)
            #expect(csv.count == 2 && csv.last?.first == id, "the payment's hash finds the order")

            // The page's browser wallet reports after the chain was quicker: the method becomes
            // WALLET_CONNECT because detection proved that very transaction; a different hash
            // changes nothing on a finished order.
            let path = try await context.harness.checkoutPath(id)
            let payer = context.chain.chains[0].accounts[1].address
            let other = try await client.reportWalletTransaction(path: path, hash: "0x" + String(repeating: "cd", count: 32), from: payer)
            #expect(other.code == 10001)
            #expect(try await intentNow(context, id).payment.paymentMethodType == .walletScan)
            let reported = try await client.reportWalletTransaction(path: path, hash: tx, from: payer)
            #expect(reported.isSuccess)
            let marked = try await intentNow(context, id)
            #expect(marked.payment.paymentMethodType == .walletConnect && marked.payment.txHash == tx && marked.status == .confirmed)
        }
    }

    @Test("An 18-decimal token (BSC-style USDT) is priced and credited exactly", arguments: Backend.available)
    func eighteenDecimals(backend: Backend) async throws {
        try await withClient(backend) { context, client in
            let (id, deposit) = try await intent(context, client: client, body: #"{"stable_coin": 1, "amount_cents": 1234}"#, chain: 1)
            let state = try await client.send(uri: "\(try await context.harness.checkoutPath(id))/state", method: .get)
            #expect(state.payload?["selected"]?["amount_base_units"] == .string("12340000000000000000"))
            _ = try await pay(context, to: deposit, amount: "12.34", chain: 1)
            try await eventually("ON_CHAIN") { try await intentNow(context, id).status == .onChain ? true : nil }
            try await context.chain.mine(2, chain: 1)
            let done = try await waitFor(.confirmed, settled: true, context, id)
            #expect(done.payment.actualPaidAmount == DecimalAmount("12.34"))
            #expect(done.payment.netIncomeAmount == DecimalAmount("12.2166"))
            #expect(
                try await context.chain.tokenBalance("USDT", of: context.merchantWallet, chain: 1) == BigUInt(12_216_600) * BigUInt(10).power(12))
        }
    }

    @Test("Two partial payments add up; an overpayment is recorded; a late payment is credited and forwarded", arguments: Backend.available)
    func partialsOverpaymentAndLate(backend: Backend) async throws {
        try await withClient(backend) { context, client in
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "4.00")
            try await waitForConfirmedTransfer("first part confirmed", context, id)
            #expect(try await intentNow(context, id).status == .onChain, "a partial payment must not confirm")
            try await payAndConfirm(context, to: deposit, amount: "6.50")
            let done = try await waitFor(.confirmed, settled: true, context, id)
            #expect(done.payment.actualPaidAmount == DecimalAmount("10.5"))
            #expect(done.overpaidAmount == DecimalAmount("0.5"))
            #expect(done.payment.netIncomeAmount == DecimalAmount("10.395"))
            // Money after the end: a late payment.
            try await payAndConfirm(context, to: deposit, amount: "1.00")
            let late = try await eventually("late payment settled") {
                let intent = try await intentNow(context, id)
                return intent.latePaidAmount != nil && intent.settlementStatus == .settled ? intent : nil
            }
            #expect(late.latePaidAmount == DecimalAmount("1"))
            #expect(late.status == .confirmed)
            #expect(late.payment.actualPaidAmount == DecimalAmount("10.5"), "the order's amount does not change")
            #expect(try await context.harness.environment.settlements.settlements(intentId: id).count == 2)
            #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) == 10_395_000 + 990_000)
            let full = try await client.send(
                SignedRequest(.get, "/v1/checkout_intents/\(id)", as: context.harness.merchant, at: context.harness.clock))
            #expect(full.string("overpaid_amount") == "0.50")
            #expect(full.string("late_paid_amount") == "1.00")
        }
    }

    @Test("Short at the window's end: UNDERPAID with what was received, which is still forwarded", arguments: Backend.available)
    func underpaid(backend: Backend) async throws {
        try await withManualClock(backend) { context, client, clock in
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "4.00")
            try await waitForConfirmedTransfer("partial confirmed", context, id)
            clock.advance(by: 1801)
            let done = try await waitFor(.underpaid, settled: true, context, id)
            #expect(done.payment.actualPaidAmount == DecimalAmount("4"))
            #expect(done.payment.netIncomeAmount == DecimalAmount("3.96"))
            #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) == 3_960_000)
            let state = try await client.send(uri: "\(try await context.harness.checkoutPath(id))/state", method: .get)
            #expect(state.string("missing_amount") == "6.00")
        }
    }

    @Test("Nothing paid by the window's end: TIMEOUT, saying so", arguments: Backend.available)
    func expiredWithNothing(backend: Backend) async throws {
        try await withManualClock(backend) { context, client, clock in
            let (id, _) = try await intent(context, client: client)
            clock.advance(by: 1801)
            let ended = try await waitFor(.timeout, context, id)
            #expect(ended.payment.errorMessage == "payment window expired with nothing received")
            #expect(try await context.harness.environment.intents.transitions(intentId: id).last?.to == .timeout)
            let again = try await client.send(
                uri: "\(try await context.harness.checkoutPath(id))/deposit", method: .post,
                body: #"{"chain_id": \#(context.chain.chains[0].chainId), "stable_coin": 1}"#)
            #expect(again.code == 10001)
        }
    }

    @Test(
        "A sender on the KYT denylist: held for review (PENDING_MANUAL_OPERATION); the operator rejects one and releases another",
        arguments: Backend.available)
    func kytReview(backend: Backend) async throws {
        try await withDenylisted(backend, account: 2) { context, client, flagged in
            let processor = context.harness.environment.paymentProcessor(logger: context.harness.environment.logger)
            let (id, deposit) = try await intent(context, client: client)
            let (other, otherDeposit) = try await intent(context, client: client)
            _ = try await pay(context, to: deposit, amount: "10.00", account: 2)
            _ = try await pay(context, to: otherDeposit, amount: "10.00", account: 2)
            try await context.chain.mine(2)
            let held = try await waitFor(.pendingManualOperation, context, id)
            #expect(held.settlementStatus == .held)
            #expect(held.payment.errorMessage?.contains(flagged.lowercased()) == true)
            try await context.chain.mine(3)
            try await Task.sleep(for: .milliseconds(800))
            #expect(try await intentNow(context, id).status == .pendingManualOperation, "it waits for the operator, however long")
            #expect(try await context.chain.tokenBalance("USDT", of: deposit) == 10_000_000, "held funds are not forwarded")
            await #expect(throws: ReviewRefused.self, "flagged money is released or rejected, not closed") {
                try await processor.review(intentId: id, decision: .close)
            }

            let rejected = try await processor.review(intentId: id, decision: .reject)
            #expect(rejected.map(\.to) == [.rejected])
            let ended = try await intentNow(context, id)
            #expect(
                ended.status == .rejected && ended.settlementStatus == .held
                    && ended.payment.errorMessage?.contains("rejected by the operator") == true)
            let transfer = try #require(try await context.harness.environment.chainTransfers.transfers(intentId: id).first)
            #expect(transfer.screening == .flagged)
            #expect(try await context.harness.environment.settlements.settlements(intentId: id).isEmpty)
            await #expect(throws: ReviewRefused.self, "a decided order takes no second decision") {
                try await processor.review(intentId: id, decision: .release)
            }

            _ = try await waitFor(.pendingManualOperation, context, other)
            let released = try await processor.review(intentId: other, decision: .release)
            #expect(released.map(\.to) == [.onChain, .confirmed])
            let confirmed = try await waitFor(.confirmed, settled: true, context, other)
            #expect(confirmed.payment.errorMessage == nil && confirmed.payment.actualPaidAmount == DecimalAmount("10.00"))
            #expect(try await context.harness.environment.chainTransfers.transfers(intentId: other).first?.screening == .released)
            #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) > 0, "released money is forwarded")
            #expect(try await context.chain.tokenBalance("USDT", of: deposit) == 10_000_000, "the rejected order's money stays held")
        }
    }

    @Test(
        "Only the wrong coin by the window's end: PENDING_MANUAL_OPERATION; closed by the operator it ends TIMEOUT, the money still held",
        arguments: Backend.available)
    func wrongCoinReview(backend: Backend) async throws {
        try await withManualClock(backend) { context, client, clock in
            let processor = context.harness.environment.paymentProcessor(logger: context.harness.environment.logger)
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "10.00", token: "USDC")
            try await eventually("the USDC transfer confirmed") {
                try await context.harness.environment.chainTransfers.transfers(intentId: id).first {
                    $0.kind == .mismatched && $0.state == .confirmed
                }
            }
            #expect(try await intentNow(context, id).status == .tempWalletReceived, "the wrong coin pays nothing")
            clock.advance(by: 1801)
            let held = try await waitFor(.pendingManualOperation, context, id)
            #expect(held.payment.errorMessage?.contains("did not choose") == true && held.settlementStatus == nil)
            await #expect(throws: ReviewRefused.self, "wrong-coin money cannot be released as a payment") {
                try await processor.review(intentId: id, decision: .release)
            }
            #expect(try await processor.review(intentId: id, decision: .close).map(\.to) == [.timeout])
            #expect(try await intentNow(context, id).status == .timeout)
            #expect(try await context.harness.environment.chainTransfers.transfers(intentId: id).map(\.kind) == [.held])
            #expect(
                try await context.harness.environment.chainTransfers.transfers(kinds: [.held]).contains { $0.intentId == id },
                "listed with the held money")
            #expect(try await context.chain.tokenBalance("USDC", of: deposit) == 10_000_000)
        }
    }

    @Test("/readyz: ready while the chain is watched; 503 naming the chain once its node has not answered for the configured time")
    func readiness() async throws {
        let chain = try Self.chain.get()
        // The sandbox chain's file, with its RPC URL pointing at a port nothing listens on.
        let text = try String(contentsOfFile: chain.chainsFile, encoding: .utf8)
        let dead = FileManager.default.temporaryDirectory.appendingPathComponent("sg-dead-chains-\(UUID()).json").path
        try text.replacingOccurrences(of: chain.chains[0].rpcURL, with: "http://127.0.0.1:9").write(toFile: dead, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dead) }
        try await withClient(.sqlite) { context, client in
            try await scannedPastHead(context)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok, "\(String(buffer: ready.body))")
        }
        let clock = ManualClock(Date())
        try await GatewayHarness.with(
            .sqlite,
            configure: { configuration in
                configuration.chainsFile = dead
                configuration.hotWalletKey = chain.chains[0].accounts[9].privateKey
                configuration.feeWallet = Self.randomAddress()
                configuration.readinessMaximumLagSeconds = 60
            }, clock: clock
        ) { harness in
            try await harness.test { client in
                try await Task.sleep(for: .milliseconds(1500))  // the watchers try, and fail
                #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok, "not before the configured time")
                clock.advance(by: 61)
                // The healthy chain's next pass brings it back at the new time; the dead one's never comes.
                let dead = "(\(chain.chains[0].chainId))", healthy = "(\(chain.chains[1].chainId))"
                let body = try await eventually("only the dead chain is named", seconds: 20) { () -> String? in
                    let reply = try await client.execute(uri: "/readyz", method: .get)
                    let body = String(buffer: reply.body)
                    return reply.status == .serviceUnavailable && body.contains(dead) && !body.contains(healthy) ? body : nil
                }
                #expect(body.contains("no detection pass completed for"), "\(body)")
                #expect(!body.contains("127.0.0.1:9"), "the reason names the chain, not its RPC URL")
            }
        }
    }

    /// Waits until the watcher has scanned past the chain's current head (so whatever was mined
    /// before this call has been looked at).
    func scannedPastHead(_ context: Context) async throws {
        let served = context.chain.chains[0]
        let head = Int64(try await EthereumRPC(url: served.rpcURL).blockNumber())
        try await eventually("scan past block \(head)") {
            (try await context.harness.environment.chainCursors.cursor(chainId: served.chainId) ?? 0) > head ? true : nil
        }
    }

    @Test(
        "Zero-value transfers, even from a denylisted sender, are no payments: the real payer's order confirms, nothing held",
        arguments: Backend.available)
    func zeroValueTransfers(backend: Backend) async throws {
        try await withDenylisted(backend, account: 3) { context, client, forger in
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "0", account: 3)
            try await scannedPastHead(context)
            let before = try await intentNow(context, id)
            #expect(before.status == .tempWalletReceived && before.payment.txHash == nil, "a transfer of nothing is not a payment")
            let tx = try await pay(context, to: deposit, amount: "10.00")
            _ = try await pay(context, to: deposit, amount: "0", account: 3)
            try await context.chain.mine(2)
            let done = try await waitFor(.confirmed, settled: true, context, id)
            #expect(done.payment.txHash == tx && done.payment.txFrom == context.chain.chains[0].accounts[1].address.lowercased())
            #expect(done.settlementStatus == .settled && done.payment.errorMessage == nil)
            let transfers = try await context.harness.environment.chainTransfers.transfers(intentId: id)
            #expect(transfers.count == 1 && transfers.allSatisfy { $0.amount > 0 }, "zero-value transfers are not recorded")
            #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) == 9_900_000)
        }
    }

    @Test("An order that only ever gets a zero-value transfer ends at its window's end", arguments: Backend.available)
    func onlyZeroValue(backend: Backend) async throws {
        try await withManualClock(backend) { context, client, clock in
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "0")
            try await scannedPastHead(context)
            #expect(try await intentNow(context, id).status == .tempWalletReceived)
            clock.advance(by: 1801)
            let ended = try await waitFor(.timeout, context, id)
            #expect(ended.payment.errorMessage == "payment window expired with nothing received" && ended.payment.txHash == nil)
        }
    }

    @Test("Late dust below the minimum is recorded and held, forwarded with later money or on the operator's release", arguments: Backend.available)
    func lateDust(backend: Backend) async throws {
        try await withClient(backend) { context, client in
            let (id, deposit) = try await intent(context, client: client)
            try await payAndConfirm(context, to: deposit, amount: "10.00")
            _ = try await waitFor(.confirmed, settled: true, context, id)
            let transfers = context.harness.environment.chainTransfers
            let settlements = context.harness.environment.settlements
            let hot = try #require(context.harness.environment.wallets?.hotWallet)
            let rpc = EthereumRPC(url: context.chain.chains[0].rpcURL)
            let hotNonce = try await rpc.transactionCount(hot)

            // 0.000001 USDT after the end: recorded as dust, nothing signed, nothing forwarded.
            try await payAndConfirm(context, to: deposit, amount: "0.000001")
            try await eventually("dust recorded") {
                try await transfers.transfers(intentId: id).contains { $0.kind == .dust && $0.state == .confirmed } ? true : nil
            }
            try await context.chain.mine(2)
            try await scannedPastHead(context)
            #expect(try await settlements.settlements(intentId: id).count == 1, "no settlement for dust")
            #expect(try await rpc.transactionCount(hot) == hotNonce, "the hot wallet signed nothing for dust")
            #expect(try await intentNow(context, id).latePaidAmount == nil)
            #expect(try await transfers.intentsHoldingDust() == [id])

            // More late money reaching the minimum: all of it credited and forwarded together.
            try await payAndConfirm(context, to: deposit, amount: "1.00")
            let late = try await eventually("late payment settled") {
                let intent = try await intentNow(context, id)
                return intent.latePaidAmount != nil && intent.settlementStatus == .settled ? intent : nil
            }
            #expect(late.latePaidAmount == DecimalAmount("1.000001"))
            #expect(try await settlements.settlements(intentId: id).count == 2)
            #expect(try await transfers.intentsHoldingDust().isEmpty)

            // Dust again, released by the operator.
            try await payAndConfirm(context, to: deposit, amount: "0.2")
            try await eventually("dust recorded") { try await transfers.intentsHoldingDust() == [id] ? true : nil }
            try await context.harness.gateway.processor.process(intentId: id, releasingDust: true)
            let released = try await eventually("released dust settled") {
                let intent = try await intentNow(context, id)
                return intent.latePaidAmount == DecimalAmount("1.200001") && intent.settlementStatus == .settled ? intent : nil
            }
            #expect(released.status == .confirmed)
            #expect(try await settlements.settlements(intentId: id).count == 3)
        }
    }

    @Test("Without a store wallet the money waits, saying why; setting a wallet releases it", arguments: Backend.available)
    func waitsForStoreWallet(backend: Backend) async throws {
        try await with(backend) { context in
            var store = try #require(try await context.harness.environment.merchants.store(id: context.harness.merchant.storeId))
            store.walletAddress = nil
            try await context.harness.environment.merchants.update(store)
            try await context.harness.test { client in
                let (id, deposit) = try await intent(context, client: client)
                try await payAndConfirm(context, to: deposit, amount: "10.00")
                let waiting = try await eventually("a settlement waiting for a wallet") {
                    try await context.harness.environment.settlements.settlements(intentId: id).first { $0.lastError != nil }
                }
                #expect(waiting.lastError == "the store has no settlement wallet; set one to release the funds")
                #expect(waiting.attempts == 0, "waiting for a wallet is not a failed attempt")
                #expect(try await intentNow(context, id).status == .confirmed)
                var withWallet = try #require(try await context.harness.environment.merchants.store(id: context.harness.merchant.storeId))
                withWallet.walletAddress = context.merchantWallet
                try await context.harness.environment.merchants.update(withWallet)
                // The sweeper looks again within its minute; bring the retry forward instead of waiting.
                var due = waiting
                due.nextAttemptAt = Date()
                try await context.harness.environment.settlements.update(due)
                _ = try await waitFor(.confirmed, settled: true, context, id)
                #expect(try await context.chain.tokenBalance("USDT", of: context.merchantWallet) == 9_900_000)
            }
        }
    }

    @Test("The wrong chain or an unconfigured token does not pay the order; wrong-chain money is held, visible", arguments: Backend.available)
    func wrongChainAndToken(backend: Backend) async throws {
        try await withClient(backend) { context, client in
            let (id, deposit) = try await intent(context, client: client)
            _ = try await pay(context, to: deposit, amount: "10.00", chain: 1)  // USDT, but on the other chain
            _ = try await pay(context, to: deposit, amount: "10.00", token: "FAKEUSD")  // a token nobody configured
            try await context.chain.mine(2, chain: 1)
            try await context.chain.mine(2)
            let mismatched = try await eventually("mismatched transfer recorded") {
                try await context.harness.environment.chainTransfers.transfers(intentId: id).first { $0.state == .confirmed }
            }
            #expect(mismatched.kind == .mismatched)
            #expect(mismatched.chainId == context.chain.chains[1].chainId)
            #expect(try await context.harness.environment.chainTransfers.transfers(intentId: id).count == 1, "the decoy token is ignored")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await intentNow(context, id).status == .tempWalletReceived)
            #expect(try await context.harness.environment.chainTransfers.transfers(kinds: [.mismatched]).map(\.intentId) == [id])
        }
    }
}
