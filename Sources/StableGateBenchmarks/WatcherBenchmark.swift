import BigInt
import Foundation
import Logging
import StableGateApp
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// Measures what watching costs per block with many open intents: loads `openIntents` intents
/// with deposit addresses, sends `transfers` token transfers on the sandbox chain (every other
/// one to an open intent's deposit address, the rest elsewhere — one block each there), then
/// times the watcher pass that scans those blocks and the pass that confirms what it found.
public enum WatcherBenchmark {
    public struct Result: Sendable {
        public let openIntents: Int
        public let blocks: Int64
        public let transfersToIntents: Int
        public let loadSeconds: Double
        public let scanSeconds: Double
        public let confirmSeconds: Double
        public var scanMillisecondsPerBlock: Double { scanSeconds * 1000 / Double(max(blocks, 1)) }
    }

    public static func run(
        environment: GatewayEnvironment, chain: ChainConfiguration, payerKeys: [[UInt8]], openIntents: Int, transfers: Int, logger: Logger
    ) async throws -> Result {
        guard let wallets = environment.wallets, let token = chain.token(for: .usdt) else {
            throw ConfigurationError(["the benchmark needs a chain with USDT and wallet keys"])
        }
        let now = environment.clock.now
        let ids = environment.identifiers
        let merchant = try await MerchantOnboarding(environment: environment).createMerchant(name: "Benchmark", wallet: nil)

        // 1. Open intents, each with a deposit address on this chain.
        let loadStart = ContinuousClock.now
        let request = try CreateCheckoutIntentRequest.parse(
            body: Array(#"{"stable_coin": 1, "amount_cents": 1000}"#.utf8), policy: .init(allowsInsecureRedirect: true))
        var intents: [(CheckoutIntent, StatusTransition)] = []
        var deposits: [(address: String, intentId: String, index: Int64)] = []
        intents.reserveCapacity(openIntents)
        for index in 0..<openIntents {
            var (intent, transition) = try IntentFactory.makeIntent(
                request: request, rate: nil, id: ids.objectId(at: now), storeId: merchant.storeId, settlementWallet: nil, now: now)
            let address = "0x" + ids.randomBytes(20).hexString
            intent.status = .tempWalletReceived
            intent.payment.chainId = chain.chainId
            intent.payment.coinContract = token.contract.checksummed
            intent.deposit = DepositAssignment(
                address: address, tokenDecimals: token.decimals, amountBaseUnits: BigUInt(10_000_000) * BigUInt(10).power(token.decimals - 6),
                expiresAt: now.addingTimeInterval(86_400))
            intents.append((intent, transition))
            deposits.append((address, intent.id, Int64(1_000_000 + index)))
        }
        try await environment.intents.insertAll(intents)
        try await environment.depositAddresses.insertDepositAddresses(deposits, at: now)
        let loadSeconds = seconds(since: loadStart)

        // 2. A watcher positioned at the current head.
        let rpc = EthereumRPC(client: RPCEndpointPool(chainId: chain.chainId, urls: chain.rpcURLs, timeout: chain.rpcTimeout))
        let processor = PaymentProcessor(
            intents: environment.intents, clock: environment.clock, identifiers: ids, defaultFeeBasisPoints: 100,
            checkoutLifetime: 86_400, feeAddress: wallets.feeAddress.lowercased, logger: logger)
        let sweeper = Sweeper(
            chain: chain, rpc: rpc, database: environment.database, intents: environment.intents, merchants: environment.merchants,
            wallets: wallets, clock: environment.clock, identifiers: ids, logger: logger)
        let watcher = ChainWatcher(
            chain: chain, rpc: rpc, database: environment.database, processor: processor, screening: nil, sweeper: sweeper,
            accounts: ShopperAccountRepository(database: environment.database), shopperSender: nil, holder: "benchmark", clock: environment.clock,
            initialLookback: 0, logger: logger)
        _ = try await watcher.pass()

        // 3. Transfers: half to open intents (1 USDT each: partial payments), half elsewhere.
        let senders = try payerKeys.map { key in (key, TokenTransferSender(rpc: rpc, chainId: UInt64(chain.chainId))) }
        var hits = 0
        let startBlock = try await rpc.blockNumber()
        for number in 0..<transfers {
            let recipient: EthereumAddress
            if number.isMultiple(of: 2) {
                recipient = EthereumAddress(deposits[Int.random(in: 0..<deposits.count)].address)!
                hits += 1
            } else {
                recipient = EthereumAddress(bytes: ids.randomBytes(20))!
            }
            let (key, sender) = senders[number % senders.count]
            _ = try await sender.send(token: token.contract, to: recipient, amount: BigUInt(10).power(token.decimals), privateKey: key)
        }
        let endBlock = try await rpc.blockNumber()

        // 4. The pass that scans them, then the one that confirms them.
        let scanStart = ContinuousClock.now
        let scan = try await watcher.pass()
        let scanSeconds = seconds(since: scanStart)
        guard scan.recorded == hits else { throw ConfigurationError(["the watcher recorded \(scan.recorded) transfers, expected \(hits)"]) }
        _ = try await rpc.client.call("evm_mine", [.int(chain.confirmations)])
        let confirmStart = ContinuousClock.now
        let confirm = try await watcher.pass()
        let confirmSeconds = seconds(since: confirmStart)
        guard confirm.confirmed == hits else { throw ConfigurationError(["the watcher confirmed \(confirm.confirmed) transfers, expected \(hits)"]) }
        return Result(
            openIntents: openIntents, blocks: Int64(endBlock - startBlock), transfersToIntents: hits, loadSeconds: loadSeconds,
            scanSeconds: scanSeconds, confirmSeconds: confirmSeconds)
    }

    /// Detection under forwarding load: what the issue measured as "queued behind forwarding".
    public struct BurstResult: Sendable {
        public let payments: Int
        public let pollMilliseconds: Int
        /// Milliseconds from a payment's transaction being mined (its send returned; the
        /// sandbox mines each at once) to its intent's ON_CHAIN transition.
        public let delays: [Double]
        public let settlementsForwarded: Int
        public func percentile(_ p: Double) -> Double {
            let sorted = delays.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
    }

    /// Runs the chain's watcher as `serve` does (detection and forwarding loops, polling every
    /// `pollInterval`) while `payments` orders are paid in full one after another, each in its
    /// own block — so settlements are due and forwarded (gas top-ups, token transfers) while
    /// later payments arrive — and measures each payment's detection delay.
    public static func burst(
        environment: GatewayEnvironment, chain: ChainConfiguration, payerKeys: [[UInt8]], payments: Int, pollInterval: Duration, logger: Logger
    ) async throws -> BurstResult {
        guard let wallets = environment.wallets, let token = chain.token(for: .usdt) else {
            throw ConfigurationError(["the benchmark needs a chain with USDT and wallet keys"])
        }
        let now = environment.clock.now
        let ids = environment.identifiers
        let merchant = try await MerchantOnboarding(environment: environment).createMerchant(name: "Burst", wallet: nil)
        if var store = try await environment.merchants.store(id: merchant.storeId) {
            store.walletAddress = EthereumAddress(bytes: ids.randomBytes(20))!.checksummed
            try await environment.merchants.update(store)
        }
        // Orders of 1 USDT with real deposit addresses (derived from the seed, so they can be forwarded).
        let request = try CreateCheckoutIntentRequest.parse(
            body: Array(#"{"stable_coin": 1, "amount_cents": 100}"#.utf8), policy: .init(allowsInsecureRedirect: true))
        let firstIndex = Int64(5_000_000 + Int.random(in: 0..<1_000_000))
        var intents: [(CheckoutIntent, StatusTransition)] = []
        var deposits: [(address: String, intentId: String, index: Int64)] = []
        for number in 0..<payments {
            var (intent, transition) = try IntentFactory.makeIntent(
                request: request, rate: nil, id: ids.objectId(at: now), storeId: merchant.storeId, settlementWallet: nil, now: now)
            let index = firstIndex + Int64(number)
            let address = try EthereumAddress(privateKey: try wallets.depositKey(index: index)).lowercased
            intent.status = .tempWalletReceived
            intent.payment.chainId = chain.chainId
            intent.payment.coinContract = token.contract.checksummed
            intent.deposit = DepositAssignment(
                address: address, tokenDecimals: token.decimals, amountBaseUnits: BigUInt(10).power(token.decimals),
                expiresAt: now.addingTimeInterval(86_400))
            intents.append((intent, transition))
            deposits.append((address, intent.id, index))
        }
        try await environment.intents.insertAll(intents)
        try await environment.depositAddresses.insertDepositAddresses(deposits, at: now)

        let watched = chain.polling(every: pollInterval)
        let rpc = EthereumRPC(client: RPCEndpointPool(chainId: chain.chainId, urls: chain.rpcURLs, timeout: chain.rpcTimeout))
        let processor = environment.paymentProcessor(logger: logger)
        let sweeper = Sweeper(
            chain: watched, rpc: rpc, database: environment.database, intents: environment.intents, merchants: environment.merchants,
            wallets: wallets, clock: environment.clock, identifiers: ids, logger: logger)
        let watcher = ChainWatcher(
            chain: watched, rpc: rpc, database: environment.database, processor: processor, screening: nil, sweeper: sweeper,
            accounts: nil, shopperSender: nil, holder: "benchmark-burst", clock: environment.clock, initialLookback: 0, logger: logger)
        _ = try await watcher.pass()  // positioned at the head
        let running = Task { try await watcher.run() }
        defer { running.cancel() }

        let senders = try payerKeys.map { key in (key, TokenTransferSender(rpc: rpc, chainId: UInt64(chain.chainId))) }
        var sentAt: [String: Date] = [:]
        for (number, deposit) in deposits.enumerated() {
            let (key, sender) = senders[number % senders.count]
            _ = try await sender.send(
                token: token.contract, to: EthereumAddress(deposit.address)!, amount: BigUInt(10).power(token.decimals), privateKey: key)
            sentAt[deposit.intentId] = Date()
        }
        // Each ON_CHAIN transition's time, as the gateway recorded it.
        var delays: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(300)
        while delays.count < deposits.count, Date() < deadline {
            for deposit in deposits where delays[deposit.intentId] == nil {
                if let onChain = try await environment.intents.transitions(intentId: deposit.intentId).first(where: { $0.to == .onChain }) {
                    delays[deposit.intentId] = max(0, onChain.at.timeIntervalSince(sentAt[deposit.intentId]!) * 1000)
                }
            }
            if delays.count < deposits.count { try await Task.sleep(for: .milliseconds(200)) }
        }
        guard delays.count == deposits.count else {
            throw ConfigurationError(["only \(delays.count) of \(deposits.count) payments were detected in 300 s"])
        }
        var forwarded = 0
        for deposit in deposits {
            forwarded += try await environment.settlements.settlements(intentId: deposit.intentId).filter {
                $0.state == .settled || $0.state == .sending
            }.count
        }
        let poll = pollInterval.components
        return BurstResult(
            payments: payments, pollMilliseconds: Int(poll.seconds * 1000 + poll.attoseconds / 1_000_000_000_000_000), delays: Array(delays.values),
            settlementsForwarded: forwarded)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
