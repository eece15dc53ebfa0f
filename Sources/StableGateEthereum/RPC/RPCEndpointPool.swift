import Foundation
import Metrics
import NIOCore
import StableGateDomain
import Synchronization

/// A chain's RPC endpoints (`rpc_urls` in the chains file) behind one ``JSONRPCCalling``: each
/// call goes to the healthiest endpoint and fails over to the next when that one errs, hangs
/// (bounded by the client's timeout) or is rate-limited.
///
/// Health, per endpoint: consecutive failures (each after the second backs the endpoint off,
/// doubling to 30 s), a rate limit's back-off (the provider's `Retry-After`, else doubling to
/// 60 s), a lag mark set by the watcher when the endpoint could not prove a block another
/// endpoint reported (30 s), and the latency of its recent answers. Endpoints not backed off
/// are tried first, fewest failures and least lag first, then the fastest; an endpoint backed
/// off for a rate limit is not called before its time.
///
/// A node's *answer* to a call — "execution reverted", "nonce too low", a range it will not
/// serve — is returned to the caller at once: another endpoint would say the same, and it says
/// nothing about the endpoint's health.
public final class RPCEndpointPool: JSONRPCCalling {
    /// One endpoint and its metrics label (index and host only: URLs often carry an API key).
    public struct Endpoint: Sendable {
        public let client: JSONRPCClient
        public let label: String
    }

    struct Health: Sendable {
        var consecutiveFailures = 0
        var backoffUntil: ContinuousClock.Instant?
        var rateLimited = false
        var laggingUntil: ContinuousClock.Instant?
        /// Milliseconds, exponentially weighted.
        var latency: Double = 0
        var lastHead: UInt64?
    }

    public let chainId: Int64
    public let endpoints: [Endpoint]
    private let health: Mutex<[Health]>
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(chainId: Int64, urls: [String], timeout: Duration = .seconds(10), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        precondition(!urls.isEmpty, "a chain needs at least one RPC URL")
        self.chainId = chainId
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        self.endpoints = urls.enumerated().map { index, url in
            Endpoint(client: JSONRPCClient(url: url, timeout: .milliseconds(max(milliseconds, 1))), label: "\(index):\(Self.host(of: url))")
        }
        self.health = Mutex(Array(repeating: Health(), count: urls.count))
        self.now = now
    }

    /// The host of a URL, for labels and logs (never its path or query, where keys live).
    static func host(of url: String) -> String {
        URLComponents(string: url)?.host ?? "endpoint"
    }

    // MARK: JSONRPCCalling

    public func call(_ method: String, _ params: [JSONValue]) async throws -> JSONValue {
        try await firstAnswer(method) { client in try await client.call(method, params) }
    }

    public func batch(_ calls: [JSONRPCCall]) async throws -> [Result<JSONValue, JSONRPCError>] {
        try await firstAnswer("batch") { client in try await client.batch(calls) }
    }

    // MARK: Choosing endpoints

    /// Tries `body` on each endpoint in order of health until one succeeds. `body` returns
    /// nil when that endpoint cannot serve this request (behind the block asked for): it is
    /// marked lagging and the next is tried. Throws the last error when none succeeded.
    public func firstAnswer<T: Sendable>(_ method: String, _ body: (JSONRPCClient) async throws -> T?) async throws -> T {
        let order = candidates()
        guard !order.isEmpty else {
            throw JSONRPCError.rateLimited(retryAfterSeconds: nil, detail: "every RPC endpoint of chain \(chainId) is backed off")
        }
        var lastError: (any Error)?
        for index in order {
            let endpoint = endpoints[index]
            let started = now()
            do {
                if let value = try await body(endpoint.client) {
                    succeeded(index, method: method, after: now() - started)
                    return value
                }
                markLagging(index)
                lastError = JSONRPCError.transport("\(endpoint.label) is behind the block asked for")
                record(method: method, endpoint: endpoint, error: "lagging")
            } catch let error as JSONRPCError where Self.isAnswer(error) {
                // The node answered; another would answer the same. Not the endpoint's fault.
                succeeded(index, method: method, after: now() - started)
                throw error
            } catch {
                failed(index, method: method, error: error)
                lastError = error
            }
        }
        throw lastError ?? JSONRPCError.transport("no RPC endpoint of chain \(chainId) answered")
    }

    /// A node error that is the answer to the call (not rate or range limits, which are
    /// handled as failures of the endpoint or by the caller).
    static func isAnswer(_ error: JSONRPCError) -> Bool {
        guard case .node = error else { return false }
        switch ProviderAnswers.classify(error) {
        case .rateLimited: return false
        case .rangeTooWide, .other: return true
        }
    }

    /// Endpoint indices to try, best first; those backed off are left out.
    func candidates() -> [Int] {
        let instant = now()
        return health.withLock { health in
            health.indices.filter { health[$0].backoffUntil.map { $0 <= instant } ?? true }.sorted { a, b in
                let lagA = health[a].laggingUntil.map { $0 > instant } ?? false, lagB = health[b].laggingUntil.map { $0 > instant } ?? false
                if lagA != lagB { return !lagA }
                if health[a].consecutiveFailures != health[b].consecutiveFailures {
                    return health[a].consecutiveFailures < health[b].consecutiveFailures
                }
                if abs(health[a].latency - health[b].latency) > 50 { return health[a].latency < health[b].latency }
                return a < b  // the configured order breaks ties: the first URL is the preferred one
            }
        }
    }

    /// The watcher saw this endpoint fail to prove a block: try others first for a while.
    public func markLagging(_ index: Int) {
        let until = now() + .seconds(30)
        health.withLock { $0[index].laggingUntil = until }
    }

    /// Asks for the head: with `quorum` 1 the best endpoint's `eth_blockNumber`; with more, as
    /// many endpoints as answer, and the `quorum`-th highest head (the lowest head of the best
    /// `quorum` endpoints), so a single endpoint far ahead cannot move the scan. Throws when
    /// fewer than `quorum` endpoints answer.
    public func head(quorum: Int) async throws -> UInt64 {
        guard quorum > 1 else {
            return try await firstAnswer("eth_blockNumber") { client in
                let head = try EthereumRPC.quantity64(try await client.call("eth_blockNumber", []), "eth_blockNumber")
                self.noteHead(client, head)
                return head
            }
        }
        let order = candidates()
        let heads = await withTaskGroup(of: UInt64?.self) { group in
            for index in order {
                group.addTask {
                    let started = self.now()
                    do {
                        let head = try EthereumRPC.quantity64(try await self.endpoints[index].client.call("eth_blockNumber", []), "eth_blockNumber")
                        self.succeeded(index, method: "eth_blockNumber", after: self.now() - started)
                        self.noteHead(self.endpoints[index].client, head)
                        return head
                    } catch {
                        self.failed(index, method: "eth_blockNumber", error: error)
                        return nil
                    }
                }
            }
            var heads: [UInt64] = []
            for await head in group { if let head { heads.append(head) } }
            return heads.sorted(by: >)
        }
        guard heads.count >= quorum else {
            throw JSONRPCError.transport("only \(heads.count) of the \(quorum) RPC endpoints a head quorum needs answered for chain \(chainId)")
        }
        return heads[quorum - 1]
    }

    // MARK: Health bookkeeping

    private func noteHead(_ client: JSONRPCClient, _ head: UInt64) {
        guard let index = endpoints.firstIndex(where: { $0.client === client }) else { return }
        health.withLock { $0[index].lastHead = head }
        Gauge(label: "stablegate_rpc_endpoint_head", dimensions: [("chain_id", "\(chainId)"), ("endpoint", endpoints[index].label)]).record(
            Double(head))
    }

    private func succeeded(_ index: Int, method: String, after elapsed: Duration) {
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        health.withLock { health in
            health[index].consecutiveFailures = 0
            health[index].backoffUntil = nil
            health[index].rateLimited = false
            health[index].latency = health[index].latency == 0 ? milliseconds : health[index].latency * 0.8 + milliseconds * 0.2
        }
        let endpoint = endpoints[index]
        record(method: method, endpoint: endpoint, error: nil)
        Timer(
            label: "stablegate_rpc_request_duration_seconds",
            dimensions: [("chain_id", "\(chainId)"), ("endpoint", endpoint.label), ("method", method)]
        )
        .recordNanoseconds(Int64(milliseconds * 1_000_000))
    }

    private func failed(_ index: Int, method: String, error: any Error) {
        let kind = ProviderAnswers.classify(error)
        let instant = now()
        health.withLock { health in
            health[index].consecutiveFailures += 1
            let failures = health[index].consecutiveFailures
            switch kind {
            case .rateLimited(let seconds):
                let wait = seconds.map { min(max($0, 1), 600) } ?? min(60, 1 << min(failures - 1, 6))
                health[index].backoffUntil = instant + .seconds(wait)
                health[index].rateLimited = true
            case .rangeTooWide, .other:
                if failures >= 2 { health[index].backoffUntil = instant + .seconds(min(30, 1 << min(failures - 2, 5))) }
            }
        }
        let label: String =
            switch kind {
            case .rateLimited: "rate_limited"
            case .rangeTooWide: "range"
            case .other: "error"
            }
        record(method: method, endpoint: endpoints[index], error: label)
    }

    private func record(method: String, endpoint: Endpoint, error: String?) {
        let base = [("chain_id", "\(chainId)"), ("endpoint", endpoint.label), ("method", method)]
        Counter(label: "stablegate_rpc_requests_total", dimensions: base).increment()
        if let error { Counter(label: "stablegate_rpc_errors_total", dimensions: base + [("kind", error)]).increment() }
    }

    /// Each endpoint's label, whether it is backed off or lagging now, and its last head.
    public func status() -> [(label: String, available: Bool, lagging: Bool, lastHead: UInt64?)] {
        let instant = now()
        return health.withLock { health in
            endpoints.indices.map { index in
                (
                    endpoints[index].label, health[index].backoffUntil.map { $0 <= instant } ?? true,
                    health[index].laggingUntil.map { $0 > instant } ?? false, health[index].lastHead
                )
            }
        }
    }
}
