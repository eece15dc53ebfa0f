import BigInt
import Foundation
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateStore

/// How `stablegate doctor` judges what its probes found: every rule is a pure function of
/// the findings (no I/O), so each verdict and its advice can be read — and tested — here.
/// ``Doctor`` gathers the findings.
enum DoctorRules {
    // MARK: Configuration and database

    /// The configuration loaded; `problems` are what production refuses (and a chains file
    /// that does not parse).
    static func configuration(_ configuration: GatewayConfiguration, chains: Int, problems: [String]) -> DoctorCheck {
        guard problems.isEmpty else {
            return .fail(
                "configuration", problems.joined(separator: "; "),
                action: "set what is missing (README \"Configuration\"); `serve` refuses to start with this configuration")
        }
        let fx =
            switch configuration.rateSource {
            case .snapshot: "FX snapshot"
            case .http(let url): "FX " + redacted(url)
            }
        let database = (try? DatabaseLocation(url: configuration.resolvedDatabaseURL)).map { "\($0)" } ?? "?"
        return .ok(
            "configuration",
            "\(configuration.mode.rawValue), \(database), \(chains) chain\(chains == 1 ? "" : "s"), SMTP \(configuration.smtp == nil ? "off" : "on"), \(fx), public URL \(configuration.resolvedPublicURL)"
        )
    }

    /// The schema against the migrations this binary knows. Behind is a warning (`serve`
    /// migrates at start); ahead means a newer binary migrated it, which this one must not run.
    static func schema(_ state: SchemaState) -> DoctorCheck {
        let known = state.known.last ?? 0
        if !state.unknown.isEmpty {
            return .fail(
                "schema",
                "the database is at schema version \(state.version), newer than this binary knows (\(known)): migrations \(state.unknown.map(String.init).joined(separator: ", ")) came from a newer StableGate",
                action:
                    "run the newer StableGate binary against this database (or restore a backup taken before the upgrade); an older binary must not write to it"
            )
        }
        if state.applied.isEmpty {
            return .warn(
                "schema", "the database is empty (no migrations applied; this binary knows \(state.known.count))",
                action: "run `stablegate migrate` (or start `stablegate serve`, which migrates first)")
        }
        if !state.pending.isEmpty {
            return .warn(
                "schema",
                "schema version \(state.version), behind this binary's \(known): \(state.pending.count) migration\(state.pending.count == 1 ? "" : "s") pending (\(state.pending.map(String.init).joined(separator: ", ")))",
                action: "run `stablegate migrate` (or restart `stablegate serve`, which migrates first)")
        }
        return .ok("schema", "schema version \(state.version), as this binary expects (\(state.applied.count) migrations applied)")
    }

    // MARK: Master key

    /// What became of the master key check value.
    enum KeyCheckValue: Equatable {
        /// None stored yet (the first `serve` writes it).
        case absent
        case opens
        case refused
    }

    /// The check value and every sealed secret against the configured key (`tally` of that one key).
    static func masterKey(source: String, checkValue: KeyCheckValue, tally: SealedSecrets.Tally) -> DoctorCheck {
        let opened = tally.openedBy.first ?? 0
        let refused = tally.total - opened
        let tables = tally.totalByTable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let summary = tally.total == 0 ? "no sealed secrets yet" : "\(opened) of \(tally.total) open (\(tables))"
        let wrongKey =
            "run with the master key of the server that uses this database: the same STABLEGATE_MASTER_KEY or, in the sandbox, that server's --data-dir (it holds master.key)"
        if checkValue == .refused {
            return .fail(
                "master key", "this database's key check value does not open with the configured key (\(source)); sealed secrets: \(summary)",
                action: wrongKey)
        }
        if refused > 0 {
            return .fail(
                "master key",
                "\(refused) sealed secret\(refused == 1 ? "" : "s") do not open with the configured key (\(tally.examplesOpenedByNone.joined(separator: ", "))); \(summary)",
                action: checkValue == .opens
                    ? "they were sealed under another key: a master-key rotation did not finish, or the data was copied from another installation; `stablegate keys verify-master --key-file OTHER` tells which key opens them"
                    : wrongKey)
        }
        if checkValue == .absent {
            return .warn(
                "master key", "no key check value stored yet (the first `serve` writes it); sealed secrets: \(summary)",
                action: opened == 0 ? nil : "start `stablegate serve` once so the key check value is written")
        }
        return .ok("master key", "the key check value and every sealed secret open with the configured key (\(source)): \(summary)")
    }

    // MARK: Chains

    /// What one RPC endpoint answered.
    struct EndpointAnswer: Equatable {
        var chainId: UInt64
        var head: UInt64
        var milliseconds: Int
    }

    static func endpointName(_ chain: ChainConfiguration, _ index: Int) -> String { "chain \(chain.chainId) rpc[\(index)]" }

    /// One endpoint: it must answer, and serve the configured chain.
    static func endpoint(_ chain: ChainConfiguration, index: Int, answered: Int, result: Result<EndpointAnswer, any Error>) -> DoctorCheck {
        let name = endpointName(chain, index)
        let url = redacted(chain.rpcURLs[index])
        let others = chain.rpcURLs.count - 1
        switch result {
        case .success(let answer) where answer.chainId != UInt64(chain.chainId):
            return .fail(
                name, "\(url) serves chain \(answer.chainId), not \(chain.chainId) (\(chain.name))",
                action: "fix rpc_urls in the chains file: a failover to this endpoint would watch another network")
        case .success(let answer):
            return .ok(name, "\(url) serves chain \(answer.chainId) (\(chain.name)), head \(answer.head), answered in \(answer.milliseconds) ms")
        case .failure(let error):
            let coverage =
                others == 0
                ? "it is the chain's only endpoint: payments on \(chain.name) are not seen while it is down"
                : "\(answered) of the chain's \(chain.rpcURLs.count) endpoints answer; the others carry the chain meanwhile"
            return .fail(
                name, "\(url) does not answer: \(error); \(coverage)",
                action: "check that node or provider (URL, API key, quota), or replace it in rpc_urls of the chains file")
        }
    }

    /// Each token's `decimals()` against the chains file.
    static func tokens(_ chain: ChainConfiguration, decimals: [(TokenConfiguration, Result<Int, any Error>)]) -> DoctorCheck {
        let name = "chain \(chain.chainId) tokens"
        var wrong: [String] = []
        var silent: [String] = []
        for (token, result) in decimals {
            switch result {
            case .success(let actual) where actual != token.decimals:
                wrong.append("\(token.symbol) at \(token.contract.checksummed) has \(actual) decimals, the chains file says \(token.decimals)")
            case .success: break
            case .failure(let error): silent.append("\(token.symbol) at \(token.contract.checksummed) does not answer decimals(): \(error)")
            }
        }
        if !wrong.isEmpty {
            return .fail(
                name, wrong.joined(separator: "; "),
                action:
                    "correct the decimals (or the contract) in the chains file: wrong decimals price every payment wrong; `serve` refuses to start")
        }
        if !silent.isEmpty {
            return .fail(
                name, silent.joined(separator: "; "), action: "check the contract address in the chains file: is it the token on this chain?")
        }
        return .ok(name, decimals.map { "\($0.0.symbol) \($0.0.decimals) decimals" }.joined(separator: ", ") + ", as configured")
    }

    /// The scan cursor against the node's head: how far detection is behind.
    static func headLag(_ chain: ChainConfiguration, cursor: Int64?, head: UInt64, maximumBlocks: Int64) -> DoctorCheck {
        let name = "chain \(chain.chainId) scan"
        guard let cursor else {
            return .warn(
                name, "never scanned (head \(head))", action: "start `stablegate serve` with this chains file; it starts scanning near the head")
        }
        let scanned = cursor - 1
        let lag = max(Int64(clamping: head) - scanned, 0)
        guard lag <= maximumBlocks else {
            return .fail(
                name, "scanned to block \(scanned), \(lag) blocks behind the head \(head) (readiness allows \(maximumBlocks))",
                action:
                    "check that a `stablegate serve` instance runs and leads this chain, and its log for RPC errors; payments are seen late meanwhile"
            )
        }
        return .ok(name, "scanned to block \(scanned), \(lag) block\(lag == 1 ? "" : "s") behind the head \(head)")
    }

    /// The hot wallet against the gas of the waiting settlements (``Sweeper/funding()``).
    static func hotWallet(_ chain: ChainConfiguration, address: EthereumAddress, funding: Sweeper.Funding) -> DoctorCheck {
        let name = "chain \(chain.chainId) hot wallet"
        let coin = chain.nativeCurrencySymbol ?? "native coin"
        let holds = "\(address.checksummed) holds \(native(funding.hotWalletBalance)) \(coin)"
        let needs = "\(native(funding.needed)) \(coin) of gas"
        guard funding.hotWalletBalance >= funding.needed else {
            if funding.waiting > 0 {
                return .fail(
                    name, "\(holds), less than the \(needs) the \(funding.waiting) waiting settlement\(funding.waiting == 1 ? " needs" : "s need")",
                    action: "send \(coin) to \(address.checksummed): settlements wait in their deposit wallets until it can pay their gas")
            }
            return .warn(
                name, "\(holds), less than the \(needs) the next settlement needs",
                action: "send \(coin) to \(address.checksummed) before payments arrive, or their forwarding waits")
        }
        let waiting = funding.waiting == 0 ? "no settlement waits" : "\(funding.waiting) settlement\(funding.waiting == 1 ? "" : "s") wait"
        return .ok(name, "\(holds); \(waiting), needing about \(needs)")
    }

    // MARK: SMTP and FX

    static func smtp(_ result: Result<String, any Error>) -> DoctorCheck {
        switch result {
        case .success(let detail): return .ok("smtp", detail)
        case .failure(let error):
            let text = "\(error)"
            let login = text.contains("after AUTH") || text.contains("(password)") || text.contains("(user name)")
            return .fail(
                "smtp", text,
                action: login
                    ? "the server refused the login: check smtp.username and smtp.password (STABLEGATE_SMTP_USERNAME, STABLEGATE_SMTP_PASSWORD)"
                    : "check smtp.host, smtp.port, smtp.security and smtp.ca.file (STABLEGATE_SMTP_…); no e-mail goes out meanwhile")
        }
    }

    /// A fetched rate against `fx.max.age`.
    static func fx(provider: String, result: Result<ExchangeRate, any Error>, now: Date, maximumAge: TimeInterval?) -> DoctorCheck {
        switch result {
        case .failure(let error):
            return .fail(
                "fx", "\(provider) gave no rate: \(error)",
                action: "check fx.url (STABLEGATE_FX_URL) and the provider; meanwhile creates priced in a fiat currency fail with 50002")
        case .success(let rate):
            let age = Int(now.timeIntervalSince(rate.asOf).rounded())
            let quoted = "1 USD = \(rate.fiatPerCoin) \(rate.currency.code), quoted \(age) s ago"
            if let maximumAge, Double(age) > maximumAge {
                return .fail(
                    "fx", "\(provider): \(quoted), older than fx.max.age (\(Int(maximumAge)) s)",
                    action:
                        "the provider serves stale rates: fix its feed or choose another; creates priced in a fiat currency fail with 50002 meanwhile"
                )
            }
            return .ok("fx", "\(provider): \(quoted)" + (maximumAge.map { " (fx.max.age \(Int($0)) s)" } ?? ""))
        }
    }

    // MARK: Webhooks

    /// A store endpoint's newest events (newest first): the latest ones failing is a warning
    /// while retries remain, and a failure once events gave up.
    static func webhook(storeId: String, endpoint: WebhookEndpoint, url: String, events: [WebhookEventRecord]) -> DoctorCheck {
        let name = "webhooks \(storeId) \(endpoint.rawValue)"
        let target = redacted(url)
        guard !events.isEmpty else { return .ok(name, "\(target): no events sent yet") }
        let lastDelivered = events.first { $0.state == .delivered }
        let sinceDelivery = lastDelivered.map { delivered in events.prefix { $0.id != delivered.id } } ?? events[...]
        let gaveUp = sinceDelivery.filter { $0.state == .failed || $0.state == .gone }
        let retrying = sinceDelivery.filter { ($0.state == .pending || $0.state == .delivering) && $0.attempts > 0 }
        let delivered = lastDelivered?.deliveredAt.map { "last delivery \($0.formatted(.iso8601))" } ?? "nothing delivered yet"
        func answer(_ event: WebhookEventRecord) -> String {
            event.lastStatus.map { "HTTP \($0)" } ?? event.lastError ?? "no answer"
        }
        if let latest = gaveUp.first {
            return .fail(
                name,
                "\(target): \(gaveUp.count) event\(gaveUp.count == 1 ? "" : "s") gave up after every retry (the latest, \(latest.id), got \(answer(latest))); \(delivered)",
                action:
                    "have the merchant fix their receiver, then `stablegate webhooks redeliver \(latest.id)` (and the others: `stablegate webhooks list --store \(storeId)`)"
            )
        }
        if let latest = retrying.first {
            return .warn(
                name,
                "\(target): \(retrying.count) event\(retrying.count == 1 ? " is" : "s are") being retried (the latest got \(answer(latest))); \(delivered)",
                action: "the merchant's receiver is failing: tell them; events are retried on the schedule (webhooks.retry.delays)")
        }
        return .ok(name, "\(target): \(delivered)")
    }

    // MARK: Formatting

    /// Scheme, host and port of a URL: paths and queries may carry API keys.
    static func redacted(_ url: String) -> String { JSONRPCClientRedaction.redacted(url) }

    /// Wei as the native coin, exactly.
    static func native(_ wei: BigUInt) -> String { DecimalAmount(units: wei, scale: 18).normalized.plainString() }
}
