import BigInt
import Foundation
import StableGateEthereum
import Synchronization

/// What this instance's watchers last saw of each chain they lead, for `/readyz` and the
/// operator alerts. A chain this instance does not lead has no entry (another instance
/// watches it and answers for it).
public final class ChainHealthBoard: Sendable {
    /// One chain's latest state.
    public struct Entry: Sendable, Equatable {
        public var chainName: String
        public var head: Int64 = 0
        public var scannedTo: Int64?
        /// How long the scan has not been at the head, in seconds (0 while it is).
        public var lagSeconds: Double?
        /// When a detection pass last completed, and the error of the last one that failed.
        public var lastPassAt: Date?
        public var lastError: String?
        /// When this instance first reported on the chain (a pass that never completes counts from here).
        public var since: Date?
        public var funding: Sweeper.Funding?
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    public init() {}

    public func update(chainId: Int64, name: String, at now: Date = Date(), _ change: (inout Entry) -> Void) {
        entries.withLock { entries in
            var entry = entries[chainId] ?? Entry(chainName: name, since: now)
            change(&entry)
            entries[chainId] = entry
        }
    }

    public func snapshot() -> [Int64: Entry] { entries.withLock { $0 } }

    /// Drops a chain this instance no longer leads.
    public func forget(chainId: Int64) {
        _ = entries.withLock { $0.removeValue(forKey: chainId) }
    }

    /// Why this instance is not ready, one reason per problem; empty when it is. A chain is
    /// behind when its last scanned block is more than `maximumBlocks` below the head or older
    /// than `maximumSeconds`, or when no detection pass completed for `maximumSeconds`; the hot
    /// wallet is short when it cannot pay the gas of the waiting settlements (at least one).
    public func problems(now: Date, maximumBlocks: Int64, maximumSeconds: Double) -> [String] {
        var problems: [String] = []
        for (chainId, entry) in snapshot().sorted(by: { $0.key < $1.key }) {
            let name = "\(entry.chainName) (\(chainId))"
            if let passed = entry.lastPassAt ?? entry.since, now.timeIntervalSince(passed) > maximumSeconds {
                // The error itself stays in the log: an RPC error may name a provider's host.
                problems.append(
                    "\(name): no detection pass completed for \(Int(now.timeIntervalSince(passed))) s\(entry.lastError == nil ? "" : " (the last one failed; see the log)")"
                )
            } else if let scanned = entry.scannedTo, entry.head - scanned > maximumBlocks {
                problems.append("\(name): scanned to block \(scanned), \(entry.head - scanned) blocks behind the head \(entry.head)")
            } else if let lag = entry.lagSeconds, lag > maximumSeconds {
                problems.append("\(name): the scan has not reached the head for \(Int(lag)) s")
            }
            if let funding = entry.funding, funding.hotWalletBalance < funding.needed {
                problems.append(
                    "\(name): the hot wallet holds \(funding.hotWalletBalance) wei, less than the \(funding.needed) wei of gas the next \(max(funding.waiting, 1)) forwarding(s) need"
                )
            }
        }
        return problems
    }
}
