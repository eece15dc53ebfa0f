import BigInt
import Foundation
import Testing

@testable import StableGatePayments

/// What `/readyz` says of chains, and when a lease holder counts as gone.
@Suite("Chain health: readiness reasons, lease holders")
struct ChainHealthTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("A chain behind in blocks or seconds, a stalled watcher, or a hot wallet short of gas each give a reason; a healthy board none")
    func readiness() {
        let board = ChainHealthBoard()
        #expect(board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300).isEmpty, "no chain led here: nothing to say")
        // A watcher whose passes never complete (the node unreachable since start).
        board.update(chainId: 5, name: "Base", at: now.addingTimeInterval(-301)) { $0.lastError = "RPC transport error: connection refused" }
        #expect(board.problems(now: now.addingTimeInterval(-2), maximumBlocks: 50, maximumSeconds: 300).isEmpty, "not yet: it has only just started")
        #expect(
            board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300) == [
                "Base (5): no detection pass completed for 301 s (the last one failed; see the log)"
            ])
        board.forget(chainId: 5)
        #expect(
            board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300).isEmpty, "a chain another instance leads now is not this one's to judge")
        board.update(chainId: 1, name: "Ethereum", at: now) { entry in
            entry.head = 1000
            entry.scannedTo = 1000
            entry.lagSeconds = 0
            entry.lastPassAt = now.addingTimeInterval(-2)
            entry.funding = Sweeper.Funding(hotWalletBalance: 10, needed: 5, waiting: 3, oldestWaiting: nil)
        }
        #expect(board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300).isEmpty)
        board.update(chainId: 1, name: "Ethereum") { $0.scannedTo = 900 }
        #expect(
            board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300) == [
                "Ethereum (1): scanned to block 900, 100 blocks behind the head 1000"
            ])
        board.update(chainId: 1, name: "Ethereum") { entry in
            entry.scannedTo = 990
            entry.lagSeconds = 400
        }
        #expect(board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300) == ["Ethereum (1): the scan has not reached the head for 400 s"])
        board.update(chainId: 1, name: "Ethereum") { entry in
            entry.lagSeconds = 0
            entry.lastPassAt = now.addingTimeInterval(-600)
            entry.lastError = "RPC transport error: HTTP 502"
        }
        #expect(
            board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300) == [
                "Ethereum (1): no detection pass completed for 600 s (the last one failed; see the log)"
            ])
        board.update(chainId: 1, name: "Ethereum") { entry in
            entry.lastPassAt = now
            entry.funding = Sweeper.Funding(hotWalletBalance: 4, needed: 5, waiting: 0, oldestWaiting: nil)
        }
        #expect(
            board.problems(now: now, maximumBlocks: 50, maximumSeconds: 300) == [
                "Ethereum (1): the hot wallet holds 4 wei, less than the 5 wei of gas the next 1 forwarding(s) need"
            ])
    }

    @Test("Only a holder on this host whose process no longer exists is gone")
    func leaseHolders() {
        let host = ProcessInfo.processInfo.hostName
        #expect(!LeaseHolder.isGone(LeaseHolder.name(random: "ab")), "this process is alive")
        #expect(!LeaseHolder.isGone("\(host)/1/ab"), "pid 1 exists")
        #expect(LeaseHolder.isGone("\(host)/\(Int32.max - 7)/ab"), "no such pid")
        #expect(!LeaseHolder.isGone("other-host.example/\(Int32.max - 7)/ab"), "another host's process cannot be checked")
        #expect(!LeaseHolder.isGone("instance-a"), "an unreadable name is no proof")
        #expect(!LeaseHolder.isGone("\(host)/notapid/ab"))
    }
}
