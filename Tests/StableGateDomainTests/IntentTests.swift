import Foundation
import Testing

@testable import StableGateDomain

@Suite("Intents: pricing and the state machine")
struct IntentTests {
    let now = Date(timeIntervalSince1970: 1_767_225_600)

    func request(_ body: String) throws -> CreateCheckoutIntentRequest {
        try CreateCheckoutIntentRequest.parse(body: Array(body.utf8), policy: .init(allowsInsecureRedirect: false))
    }

    /// Makes an intent from `body` at 147.9 JPY per coin: the `APIError` it is refused with, or
    /// nil when it is made.
    func refusal(_ body: String) throws -> APIError? {
        let rate = ExchangeRate(currency: .jpy, fiatPerCoin: try #require(DecimalAmount("147.9")), asOf: now, source: "test")
        do {
            _ = try IntentFactory.makeIntent(request: try request(body), rate: rate, id: "x", storeId: "s", settlementWallet: nil, now: now)
            return nil
        } catch let error as APIError {
            return error
        }
    }

    @Test("A fiat intent records the rate and its time, and rounds the coin amount up")
    func fiatIntent() throws {
        let rate = ExchangeRate(currency: .eur, fiatPerCoin: try #require(DecimalAmount("0.8528")), asOf: now.addingTimeInterval(-60), source: "test")
        let (intent, transition) = try IntentFactory.makeIntent(
            request: try request(#"{"currency": 44, "amount_cents": 1000}"#), rate: rate, id: "6a5f0c2e9b1d4e7f8a9b0c1d",
            storeId: "s", settlementWallet: "0xabc", now: now)
        #expect(intent.amountCoins == DecimalAmount("11.726079"))
        #expect(intent.pricing == .fiat(currency: .eur, amountCents: 1000, rate: try #require(DecimalAmount("0.8528")), rateAsOf: rate.asOf))
        #expect(intent.status == .created)
        #expect(intent.payment.txTo == "0xabc")
        #expect(intent.payment.paymentMethodType == .unknown)
        #expect(transition == StatusTransition(from: nil, to: .created, reason: "created through the Open API", at: now))
    }

    @Test(
        "Amounts at or below 0.1 coin fail with 50002",
        arguments: [
            (#"{"stable_coin": 1, "amount_cents": 10}"#, true),
            (#"{"stable_coin": 1, "amount_cents": 11}"#, false),
            (#"{"currency": 72, "amount_cents": 1479}"#, true),  // 14.79 JPY = 0.1 USDT exactly
            (#"{"currency": 72, "amount_cents": 1480}"#, false),
        ])
    func floor(body: String, rejected: Bool) throws {
        let refusal = try refusal(body)
        #expect((refusal != nil) == rejected)
        if let refusal {
            #expect(refusal.code == .createFailed)
            #expect(refusal.message.contains("greater than 0.1"))
        }
    }

    @Test(
        "Amounts above 10^12 coins fail with 50002 — before FX for coin prices, after it for fiat",
        arguments: [
            (#"{"stable_coin": 1, "amount_cents": 100000000000000}"#, false),  // 10^12 USDT exactly
            (#"{"stable_coin": 1, "amount_cents": 100000000000001}"#, true),
            (#"{"stable_coin": 1, "amount_cents": 999999999999999}"#, true),  // found by schemathesis: was a 500
            (#"{"currency": 72, "amount_cents": 1000000000000000}"#, false),  // 10^13 JPY ≈ 6.8 × 10^10 USDT
        ])
    func ceiling(body: String, rejected: Bool) throws {
        let refusal = try refusal(body)
        #expect((refusal != nil) == rejected)
        if let refusal {
            #expect(refusal.code == .createFailed && refusal.message.contains("at most 1000000000000 USDT"), "\(refusal.message)")
        }
    }

    @Test("A fiat request without a matching rate is a 50002, not a crash")
    func missingRate() throws {
        #expect(throws: APIError(.createFailed, "no exchange rate is available for EUR", field: "currency")) {
            try IntentFactory.makeIntent(
                request: try request(#"{"currency": 44, "amount_cents": 1000}"#), rate: nil, id: "x", storeId: "s", settlementWallet: nil, now: now)
        }
    }

    @Test("The lifecycle follows docs/WIRE-CONTRACT.md §6.2, and terminal statuses never move")
    func stateMachine() throws {
        var (intent, _) = try IntentFactory.makeIntent(
            request: try request(#"{"stable_coin": 1, "amount_cents": 1000}"#), rate: nil, id: "x", storeId: "s", settlementWallet: nil, now: now)
        for next in [CheckoutStatus.paying, .tempWalletReceived, .tempWalletReceived, .onChain, .confirmed] {
            let record = try IntentStateMachine.transition(&intent, to: next, reason: "test", at: now)
            #expect(record.to == next)
        }
        for status in CheckoutStatus.allCases where status.isTerminal {
            #expect(IntentStateMachine.successors(of: status).isEmpty)
        }
        #expect(throws: IllegalTransition(from: .confirmed, to: .canceled)) {
            try IntentStateMachine.transition(&intent, to: .canceled, reason: "too late", at: now)
        }
        #expect(intent.status == .confirmed)
        #expect(!IntentStateMachine.canTransition(from: .created, to: .confirmed))
        #expect(!IntentStateMachine.canTransition(from: .paying, to: .created))
        #expect(IntentStateMachine.canTransition(from: .onChain, to: .tempWalletReceived))
    }

    @Test("Review and refund paths: REJECTED only by the operator's review, SEND_BACK ends CANCELED or goes back to review")
    func reviewTransitions() {
        for open in [CheckoutStatus.created, .paying, .tempWalletReceived, .onChain] {
            #expect(IntentStateMachine.canTransition(from: open, to: .pendingManualOperation), "\(open.name)")
            #expect(IntentStateMachine.canTransition(from: open, to: .timeout), "\(open.name)")
            #expect(!IntentStateMachine.canTransition(from: open, to: .rejected), "KYT money waits for the operator first: \(open.name)")
        }
        #expect(IntentStateMachine.successors(of: .pendingManualOperation) == [.onChain, .rejected, .timeout, .sendBack, .failed])
        #expect(IntentStateMachine.successors(of: .sendBack) == [.canceled, .pendingManualOperation, .failed])
        #expect(!IntentStateMachine.canTransition(from: .pendingManualOperation, to: .confirmed), "released money is confirmed through ON_CHAIN")
    }

    @Test("Object ids are 24 lower-case hex characters and unique")
    func objectIds() {
        let generator = SystemIdentifierGenerator()
        let ids = (0..<1000).map { _ in generator.objectId(at: now) }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy(ObjectIdFormat.isValid))
        #expect(ids[0].hasPrefix(String(UInt32(now.timeIntervalSince1970), radix: 16)))
        #expect(!ObjectIdFormat.isValid("6A5F0C2E9B1D4E7F8A9B0C1D"))
        #expect(!ObjectIdFormat.isValid("6a5f0c2e9b1d4e7f8a9b0c1"))
        #expect(!ObjectIdFormat.isValid("6a5f0c2e9b1d4e7f8a9b0c1g"))
    }
}
