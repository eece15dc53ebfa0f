import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Synchronization
import Testing

/// A rate provider with fixed rates, for tests of the rules around rates.
struct FixedRates: RateProvider {
    let name = "fixed"
    let rates: [FiatCurrency: String]
    var asOf = Date()
    var failure: (any Error)?

    init(_ rates: [FiatCurrency: String], asOf: Date = Date(), failure: (any Error)? = nil) {
        self.rates = rates
        self.asOf = asOf
        self.failure = failure
    }

    func rate(for currency: FiatCurrency) async throws -> ExchangeRate? {
        if let failure { throw failure }
        return rates[currency].map { ExchangeRate(currency: currency, fiatPerCoin: DecimalAmount($0)!, asOf: asOf, source: name) }
    }
}

@Suite("FX rates")
struct FXTests {
    @Test("The bundled snapshot covers all 163 currencies with positive rates and an as-of date")
    func snapshot() async throws {
        let snapshot = try SnapshotRateProvider()
        #expect(snapshot.currencies == Set(FiatCurrency.allCases))
        for currency in FiatCurrency.allCases {
            let rate = try #require(try await snapshot.rate(for: currency))
            #expect(!rate.fiatPerCoin.isZero)
            #expect(rate.asOf == snapshot.asOf)
        }
        #expect(try await snapshot.rate(for: .usd)?.fiatPerCoin == DecimalAmount(1))
        #expect(snapshot.asOf == (try Date("2025-10-01T00:00:00Z", strategy: .iso8601)))
    }

    func createEUR(_ harness: GatewayHarness) async throws -> EnvelopeReply {
        try await harness.value { client in
            try await client.send(
                SignedRequest(
                    .post, "/v1/checkout_intents", body: #"{"currency": 44, "amount_cents": 1000}"#, as: harness.merchant, at: harness.clock))
        }
    }

    @Test("No rate, a stale rate, or an unavailable provider is a 50002 that says which, and writes nothing")
    func rateFailures() async throws {
        struct Down: Error {}
        let cases: [(any RateProvider, TimeInterval?, String)] = [
            (FixedRates([.usd: "1"]), nil, "no exchange rate is available for EUR"),
            (FixedRates([.eur: "0.9"], asOf: Date().addingTimeInterval(-7200)), 3600, "older than the allowed 3600 s"),
            (FixedRates([:], failure: Down()), nil, "exchange rates are unavailable right now"),
        ]
        for (provider, maximumAge, message) in cases {
            try await GatewayHarness.with(.sqlite, configure: { $0.rateMaximumAge = maximumAge }, rateProvider: provider) { harness in
                let reply = try await createEUR(harness)
                #expect(reply.code == 50002)
                #expect(reply.errorMessage?.contains(message) == true, "\(reply.text)")
                #expect(reply.errorField == "currency")
                #expect(try await harness.intentCount() == 0)
            }
        }
    }

    @Test("The HTTP provider reads a live endpoint exactly, caches it for its TTL, and the rate is stored on the intent")
    func httpProvider() async throws {
        let hits = Atomic<Int>(0)
        let router = Router()
        router.get("latest") { _, _ -> Response in
            hits.add(1, ordering: .relaxed)
            // A public-API shaped document; 0.91234567890123456789 must not pass through Double.
            let body =
                #"{"result":"success","base_code":"USD","time_last_update_unix":\#(Int(Date().timeIntervalSince1970)),"rates":{"USD":1,"EUR":0.91234567890123456789,"JPY":1.4790e2}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let rates = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await rates.test(.live) { ratesClient in
            let url = "http://127.0.0.1:\(ratesClient.port!)/latest"
            try await GatewayHarness.with(
                .sqlite,
                configure: {
                    $0.rateSource = .http(url: url)
                    $0.rateCacheTTL = 3600
                    $0.rateMaximumAge = 600
                }
            ) { harness in
                let first = try await createEUR(harness)
                #expect(first.string("rate") == "0.91234567890123456789")
                #expect(first.string("amount_coins") == "10.960758")  // 10 / 0.912345678901… = 10.96075765…, rounded up
                let second = try await createEUR(harness)
                #expect(second.isSuccess)
                #expect(hits.load(ordering: .relaxed) == 1)
                let id = try #require(first.string("allscale_checkout_intent_id"))
                let intent = try #require(try await harness.environment.intents.find(id: id))
                guard case .fiat(_, _, let rate, _) = intent.pricing else {
                    Issue.record("not fiat")
                    return
                }
                #expect(rate == DecimalAmount("0.91234567890123456789"))
            }
        }
    }
}
