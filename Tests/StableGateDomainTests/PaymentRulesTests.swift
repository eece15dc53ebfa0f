import BigInt
import Testing

@testable import StableGateDomain

@Suite("Payment rules")
struct PaymentRulesTests {
    func steps(_ snapshot: PaymentSnapshot) -> [CheckoutStatus] {
        PaymentRules.steps(snapshot).map(\.status)
    }

    @Test("A payment seen on chain moves to ON_CHAIN; confirmed in full, to CONFIRMED")
    func happyPath() {
        #expect(steps(PaymentSnapshot(status: .tempWalletReceived, required: 10_000_000, pendingCount: 1, activeCount: 1)) == [.onChain])
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10_000_000, confirmedPaid: 10_000_000, activeCount: 1)) == [.confirmed])
        // Detected and confirmed between two passes: both steps, in order.
        #expect(
            steps(PaymentSnapshot(status: .tempWalletReceived, required: 10_000_000, confirmedPaid: 10_000_000, activeCount: 1)) == [
                .onChain, .confirmed,
            ])
        let overpaid = PaymentRules.steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 11, activeCount: 1))
        #expect(overpaid.last?.reason.contains("overpaid") == true)
        #expect(overpaid.last?.settles == true)
    }

    @Test("Partial payments wait; the window's end makes them UNDERPAID, but never while one is pending")
    func partial() {
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 4, activeCount: 1)) == [])
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 4, pendingCount: 1, activeCount: 2, windowExpired: true)) == [])
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 4, activeCount: 1, windowExpired: true)) == [.underpaid])
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 10, pendingCount: 1, activeCount: 2)) == [.confirmed])
    }

    @Test("Nothing paid by the end of the window: TIMEOUT with a reason; before any choice too")
    func expiry() {
        let ended = PaymentRules.steps(PaymentSnapshot(status: .tempWalletReceived, required: 10, windowExpired: true))
        #expect(ended.map(\.status) == [.timeout])
        #expect(ended.first?.reason == "payment window expired with nothing received")
        #expect(steps(PaymentSnapshot(status: .paying, required: 0, windowExpired: true)) == [.timeout])
        #expect(steps(PaymentSnapshot(status: .paying, required: 0)) == [])
    }

    @Test("Only wrong-coin money by the end of the window: PENDING_MANUAL_OPERATION, until the operator closes it")
    func wrongCoin() {
        let held = PaymentRules.steps(PaymentSnapshot(status: .tempWalletReceived, required: 10, wrongCoinCount: 1, windowExpired: true))
        #expect(held.map(\.status) == [.pendingManualOperation])
        #expect(held.first?.reason.contains("did not choose") == true)
        #expect(steps(PaymentSnapshot(status: .pendingManualOperation, required: 10, wrongCoinCount: 1, windowExpired: true)) == [])
        // Closed by the operator: the wrong-coin money no longer counts, nothing else came.
        #expect(steps(PaymentSnapshot(status: .pendingManualOperation, required: 10, windowExpired: true)) == [.timeout])
        // Before the window's end, or with some of the right coin, the usual rules hold.
        #expect(steps(PaymentSnapshot(status: .tempWalletReceived, required: 10, wrongCoinCount: 1)) == [])
        #expect(
            steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 4, activeCount: 1, wrongCoinCount: 1, windowExpired: true)) == [
                .underpaid
            ])
    }

    @Test("ON_CHAIN with nothing credited ends at the window's end: no order waits forever on transfers that carry nothing")
    func onChainWithNothingCredited() {
        // Active transfers that are final but were never credited (nothing cleared, nothing flagged).
        let ended = PaymentRules.steps(PaymentSnapshot(status: .onChain, required: 10, activeCount: 1, windowExpired: true))
        #expect(ended.map(\.status) == [.timeout])
        #expect(ended.first?.reason == "payment window expired with nothing received")
        #expect(steps(PaymentSnapshot(status: .onChain, required: 10, activeCount: 1)) == [], "before the window's end it waits")
        #expect(
            steps(PaymentSnapshot(status: .onChain, required: 10, pendingCount: 1, activeCount: 1, windowExpired: true)) == [],
            "a payment still being confirmed is waited for")
    }

    @Test("A reorg that drops every payment goes back to TEMP_WALLET_RECEIVED, naming the transfer")
    func reorg() {
        let back = PaymentRules.steps(PaymentSnapshot(status: .onChain, required: 10, lastDropped: "transfer 0xabc from block 42"))
        #expect(back.map(\.status) == [.tempWalletReceived])
        #expect(back.first?.reason.contains("0xabc") == true)
    }

    @Test("A KYT-flagged sender holds the order for the operator (PENDING_MANUAL_OPERATION), even with the full amount confirmed")
    func kyt() {
        let held = PaymentRules.steps(PaymentSnapshot(status: .onChain, required: 10, confirmedPaid: 10, activeCount: 1, flaggedSender: "0xbad"))
        #expect(held.map(\.status) == [.pendingManualOperation])
        #expect(held.first?.reason.contains("0xbad") == true)
        #expect(
            steps(PaymentSnapshot(status: .tempWalletReceived, required: 10, activeCount: 1, flaggedSender: "0xbad")) == [
                .onChain, .pendingManualOperation,
            ])
        // It stays there whatever else happens, the window's end included.
        #expect(
            steps(
                PaymentSnapshot(
                    status: .pendingManualOperation, required: 10, confirmedPaid: 10, activeCount: 1, flaggedSender: "0xbad", windowExpired: true))
                == [])
        // Released (the sender no longer counts as flagged): the order goes on and is confirmed.
        let released = PaymentRules.steps(PaymentSnapshot(status: .pendingManualOperation, required: 10, confirmedPaid: 10, activeCount: 1))
        #expect(released.map(\.status) == [.onChain, .confirmed])
        #expect(released.first?.reason == "payment on chain, no longer held for review")
    }

    @Test("A refund in flight (SEND_BACK) is left to the refund")
    func sendBack() {
        #expect(steps(PaymentSnapshot(status: .sendBack, required: 10, confirmedPaid: 10, activeCount: 1, windowExpired: true)) == [])
    }

    @Test("Terminal intents never move")
    func terminal() {
        for status in CheckoutStatus.allCases where status.isTerminal {
            #expect(
                steps(PaymentSnapshot(status: status, required: 10, confirmedPaid: 50, activeCount: 3, flaggedSender: "0x1", windowExpired: true))
                    == [])
        }
    }

    @Test("Settlements split exactly: fee rounds down, net + fee == paid")
    func settlement() {
        let split = Settlement(paid: 10_000_001, required: 10_000_000, feeBasisPoints: 100)
        #expect(split.fee == 100_000)
        #expect(split.net == 9_900_001)
        #expect(split.net + split.fee == split.paid)
        #expect(split.overpaid == 1)
        #expect(Settlement(paid: 5, required: 10, feeBasisPoints: 100).overpaid == 0)
    }

    @Test("EIP-681 payment URIs")
    func paymentURI() {
        #expect(
            PaymentURI.erc20Transfer(token: "0xTok", chainId: 56, recipient: "0xDep", baseUnits: 10_000_000_000_000_000_000)
                == "ethereum:0xTok@56/transfer?address=0xDep&uint256=10000000000000000000")
    }
}
