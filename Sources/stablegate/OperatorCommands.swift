import ArgumentParser
import Foundation
import StableGateApp
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// `stablegate stores show|set`: a store's settlement wallet, fee, KYT switch, windows,
/// webhook endpoints (with their ids) and response signing.
struct StoresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stores", abstract: "Show and configure stores.", subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a store's settings, webhook ids included.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Store id.") var store: String

        func run() async throws {
            let record = try await global.withEnvironment { environment in
                try await environment.merchants.store(id: store).orThrow("no store with id \(store)")
            }
            print(StoresCommand.summary(record))
        }
    }

    /// The settings as `stores show` and `stores set` print them.
    static func summary(_ store: Store) -> String {
        """
        store_id          \(store.id)
        name              \(store.name)
        wallet            \(store.walletAddress ?? "none — settlements wait until one is set")
        fee               \(store.feeBasisPoints.map { "\($0) bps" } ?? "gateway default")
        kyt               \(store.kytEnabled ? "on" : "off")
        payment window    \(store.paymentWindowSeconds.map { "\($0) s" } ?? "gateway default")
        replay window     ±\(store.replayWindowSeconds ?? RequestSigning.defaultReplayWindow) s
        signed responses  \(store.signedResponses ? "on" : "off")
        webhook URL       \(store.webhookURL ?? "none")   (AllScale format: confirmed payments only)
        webhook id        \(store.webhookURL == nil ? "-" : store.webhookId ?? "-")
        events URL        \(store.eventsURL ?? "none")   (StableGate events: every transition, late payments, tests)
        events webhook id \(store.eventsURL == nil ? "-" : store.eventsWebhookId ?? "-")
        e-mails           \(store.notificationEmails.isEmpty ? "none" : store.notificationEmails.joined(separator: ", "))
        """
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a store's settings.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Store id.") var store: String
        @Option(help: "Store name.") var name: String?
        @Option(help: "Settlement wallet (0x…, EIP-55 checked).") var wallet: String?
        @Option(name: .customLong("fee-bps"), help: "Service fee in basis points (100 = 1 %); 'default' for the gateway's.") var feeBps: String?
        @Option(help: "KYT screening of payment senders: on or off.") var kyt: String?
        @Option(name: .customLong("payment-window"), help: "Payment window in seconds; 'default' for the gateway's.") var paymentWindow: String?
        @Option(
            name: .customLong("replay-window"),
            help: "How far a signed request's X-Timestamp may be from the server's clock, 30–600 seconds; 'default' for 600.")
        var replayWindow: String?
        @Option(
            name: .customLong("webhook-url"),
            help: "Where AllScale-format webhooks of confirmed payments are posted (https outside the sandbox); 'none' to stop them.")
        var webhookURL: String?
        @Flag(
            name: .customLong("new-webhook-id"),
            help: "Give the webhook URL a new webhook id (receivers that pin the old one refuse deliveries until updated).")
        var newWebhookId = false
        @Option(
            name: .customLong("events-url"), help: "Where StableGate events (every transition, late payments, tests) are posted; 'none' to stop them."
        )
        var eventsURL: String?
        @Flag(name: .customLong("new-events-webhook-id"), help: "Give the events URL a new webhook id.") var newEventsWebhookId = false
        @Option(name: .customLong("signed-responses"), help: "Sign every API response to this store's keys (X-Response-Signature): on or off.")
        var signedResponses: String?
        @Option(help: "Notification e-mail addresses, comma-separated (at most 10); 'none' for no e-mails.") var emails: String?

        func run() async throws {
            let updated = try await global.withEnvironment { environment -> Store in
                var record = try await environment.merchants.store(id: store).orThrow("no store with id \(store)")
                if let name { record.name = name }
                if let wallet {
                    guard let address = EthereumAddress(wallet) else {
                        throw ValidationError("--wallet \(wallet) is not a valid address (check its EIP-55 capitalisation)")
                    }
                    record.walletAddress = address.checksummed
                }
                if let feeBps {
                    if feeBps == "default" {
                        record.feeBasisPoints = nil
                    } else if let value = Int(feeBps), (0...10_000).contains(value) {
                        record.feeBasisPoints = value
                    } else {
                        throw ValidationError("--fee-bps must be 0–10000 or 'default'")
                    }
                }
                if let kyt {
                    guard ["on", "off"].contains(kyt) else { throw ValidationError("--kyt must be on or off") }
                    record.kytEnabled = kyt == "on"
                }
                if let paymentWindow {
                    if paymentWindow == "default" {
                        record.paymentWindowSeconds = nil
                    } else if let value = Int(paymentWindow), value >= 60 {
                        record.paymentWindowSeconds = value
                    } else {
                        throw ValidationError("--payment-window must be at least 60 seconds or 'default'")
                    }
                }
                if let replayWindow {
                    let range = RequestSigning.replayWindowRange
                    if replayWindow == "default" {
                        record.replayWindowSeconds = nil
                    } else if let value = Int(replayWindow), range.contains(value) {
                        record.replayWindowSeconds = value
                    } else {
                        throw ValidationError("--replay-window must be \(range.lowerBound)–\(range.upperBound) seconds or 'default'")
                    }
                }
                let sandbox = environment.configuration.mode == .sandbox
                for (endpoint, option, url, newId) in [
                    (WebhookEndpoint.allscale, "--webhook-url", webhookURL, newWebhookId), (.events, "--events-url", eventsURL, newEventsWebhookId),
                ] {
                    let current = endpoint == .allscale ? record.webhookURL : record.eventsURL
                    guard url != nil || newId else { continue }
                    if let url, url != "none", let problem = WebhookURLRule.problem(url, sandbox: sandbox) {
                        throw ValidationError("\(option): \(problem)")
                    }
                    let target = url.map { $0 == "none" ? nil : $0 } ?? current
                    if newId, target == nil { throw ValidationError("\(option): a new webhook id needs a URL") }
                    record.setEndpoint(endpoint, url: target, newId: newId) { WebhookSigning.newWebhookId(environment.identifiers) }
                }
                if let signedResponses {
                    guard ["on", "off"].contains(signedResponses) else { throw ValidationError("--signed-responses must be on or off") }
                    record.signedResponses = signedResponses == "on"
                }
                if let emails {
                    let list =
                        emails == "none"
                        ? [] : emails.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
                    if let bad = list.first(where: { !EmailAddress.isValid($0) }) {
                        throw ValidationError("--emails: \(bad) is not an e-mail address")
                    }
                    guard list.count <= 10 else { throw ValidationError("--emails: at most 10 notification addresses") }
                    record.notificationEmails = list
                }
                let before = try await environment.merchants.store(id: store).orThrow("no store with id \(store)")
                let changes = StoreSettingsDiff.between(before, record)
                let now = environment.clock.now
                try await environment.merchants.update(
                    record,
                    audit: AuditEntry(
                        id: environment.identifiers.objectId(at: now), storeId: record.id, actor: .operatorCLI, at: now,
                        action: "settings.updated", detail: changes.serialized))
                return record
            }
            print(StoresCommand.summary(updated))
        }
    }
}

/// `stablegate intents show ID`: everything the operator knows about an intent;
/// `stablegate intents review ID`: the operator's decision on one waiting in PENDING_MANUAL_OPERATION.
struct IntentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intents", abstract: "Inspect checkout intents; decide those waiting for review.", subcommands: [Show.self, Review.self])

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide an intent in PENDING_MANUAL_OPERATION (4): release or reject KYT-flagged money, or close one holding wrong-coin money.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The checkout intent id.") var intentId: String
        @Flag(help: "Release KYT-flagged payments: they count as clear and the order goes on (confirmed and forwarded when enough was paid).")
        var release = false
        @Flag(help: "Reject KYT-flagged payments: the order ends REJECTED and the money stays held.") var reject = false
        @Flag(
            help:
                "Close an order whose only money came in the wrong coin or network: it ends by its own money (TIMEOUT when none); the wrong-coin money stays held."
        )
        var close = false

        func validate() throws {
            guard [release, reject, close].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --release, --reject, --close")
            }
        }

        func run() async throws {
            let decision: ReviewDecision = release ? .release : reject ? .reject : .close
            let transitions = try await global.withEnvironment { environment in
                // Releasing money settles it, and the settlement names the fee wallet, which comes with the chains' keys.
                if decision == .release, environment.wallets == nil {
                    throw ValidationError("--release needs the gateway's chains file: pass --chains FILE as for serve")
                }
                do {
                    return try await environment.paymentProcessor(logger: environment.logger).review(intentId: intentId, decision: decision)
                } catch let refused as ReviewRefused {
                    throw ValidationError(refused.reason)
                }
            }
            guard !transitions.isEmpty else { throw ValidationError("no checkout intent \(intentId)") }
            for transition in transitions { print("\(transition.from?.name ?? "-") → \(transition.to.name): \(transition.reason)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an intent with its status history, transfers and settlements, as JSON.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The checkout intent id.") var intentId: String

        func run() async throws {
            let json = try await global.withEnvironment { environment -> JSONValue in
                let intent = try await environment.intents.find(id: intentId).orThrow("no checkout intent \(intentId)")
                let transitions = try await environment.intents.transitions(intentId: intentId)
                let transfers = try await environment.chainTransfers.transfers(intentId: intentId)
                let settlements = try await environment.settlements.settlements(intentId: intentId)
                var sweeps: [JSONValue] = []
                for settlement in settlements {
                    for sweep in try await environment.signedTransactions.sweeps(settlementId: settlement.id) {
                        sweeps.append(
                            .object([
                                ("settlement_id", .string(settlement.id)), ("kind", .string(sweep.kind.rawValue)), ("attempt", .int(sweep.attempt)),
                                ("nonce", .int(sweep.nonce)), ("tx_hash", .string(sweep.hash)), ("state", .string(sweep.state.rawValue)),
                                ("from", .string(sweep.from)), ("to", .string(sweep.to)),
                            ]))
                    }
                }
                return .object([
                    ("intent", CheckoutIntentWire.fullPayload(intent, checkoutURL: environment.links.url(for: intent))),
                    (
                        "transitions",
                        .array(
                            transitions.map { transition in
                                .object([
                                    ("at", .string(CheckoutIntentWire.timestamp(transition.at))), ("from", .stringOrNull(transition.from?.name)),
                                    ("to", .string(transition.to.name)), ("reason", .string(transition.reason)),
                                ])
                            })
                    ),
                    ("transfers", .array(transfers.map(TransferJSON.render))),
                    (
                        "settlements",
                        .array(
                            settlements.map { settlement in
                                .object([
                                    ("id", .string(settlement.id)), ("chain_id", .int(settlement.chainId)),
                                    ("gross", .string(String(settlement.gross))),
                                    ("fee", .string(String(settlement.fee))), ("net", .string(String(settlement.net))),
                                    ("state", .string(settlement.state.rawValue)),
                                    ("merchant_address", .stringOrNull(settlement.merchantAddress)),
                                    ("fee_address", .stringOrNull(settlement.feeAddress)),
                                    ("attempts", .int(settlement.attempts)), ("last_error", .stringOrNull(settlement.lastError)),
                                ])
                            })
                    ),
                    ("sweep_transactions", .array(sweeps)),
                ])
            }
            print(json.serialized)
        }
    }
}

/// `stablegate transfers list`: money the operator must look at.
struct TransfersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfers", abstract: "Inspect transfers to deposit addresses; release held dust.", subcommands: [List.self, ReleaseDust.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List transfers: held ones (KYT-flagged senders, wrong chain or coin) and late payments, or all.")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only held money: flagged senders, mismatched transfers and dust.") var held = false
        @Flag(help: "Only late payments.") var late = false
        @Flag(help: "Only dust: late money below payments.late.minimum, held until more arrives or it is released.") var dust = false
        @Option(help: "How many to print, newest first (1–100000).") var limit = 200

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be 1–100000") }
        }

        func run() async throws {
            // One more than printed, to say whether the list was cut.
            let found = try await global.withEnvironment { environment -> [ChainTransfer] in
                try await environment.chainTransfers.transfers(kinds: dust ? [.dust] : late ? [.late] : nil, held: held, limit: limit + 1)
            }
            let transfers = Array(found.prefix(limit))
            if found.count > limit {
                printToStandardError("only the newest \(limit) transfers are listed; there are more: raise --limit")
            }
            for transfer in transfers { print(TransferJSON.render(transfer).serialized) }
        }
    }

    struct ReleaseDust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release-dust",
            abstract: "Credit held dust as a late payment and queue its forwarding, whatever its total (the running gateway sends it).")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this intent's dust.") var intent: String?
        @Flag(help: "Every intent's dust.") var all = false

        func validate() throws {
            guard (intent != nil) != all else { throw ValidationError("give --intent ID or --all") }
        }

        func run() async throws {
            try await global.withEnvironment { environment in
                // The settlement names the fee wallet, which comes with the chains' keys.
                guard environment.wallets != nil else {
                    throw ValidationError("release-dust needs the gateway's chains file: pass --chains FILE as for serve")
                }
                let processor = environment.paymentProcessor(logger: environment.logger)
                let held = try await environment.chainTransfers.intentsHoldingDust(intentId: intent)
                for id in held { try await processor.process(intentId: id, releasingDust: true) }
                print("released the dust of \(held.count) intent\(held.count == 1 ? "" : "s")")
            }
        }
    }
}

enum TransferJSON {
    static func render(_ transfer: ChainTransfer) -> JSONValue {
        .object([
            ("intent_id", .string(transfer.intentId)), ("chain_id", .int(transfer.chainId)), ("tx_hash", .string(transfer.transactionHash)),
            ("log_index", .int(transfer.logIndex)), ("block_number", .int(transfer.blockNumber)), ("token", .string(transfer.tokenContract)),
            ("from", .string(transfer.from)), ("to", .string(transfer.to)),
            ("amount", .string(MoneyRules.wireString(DecimalAmount(units: transfer.amount, scale: transfer.decimals)))),
            ("kind", .string(transfer.kind.rawValue)), ("state", .string(transfer.state.rawValue)), ("kyt", .string(transfer.screening.rawValue)),
            ("kyt_detail", .stringOrNull(transfer.screeningDetail)), ("credited", .bool(transfer.credited)),
        ])
    }
}
