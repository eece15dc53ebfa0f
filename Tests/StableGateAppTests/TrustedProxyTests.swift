import Foundation
import HTTPTypes
import HummingbirdTesting
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// `trusted.proxies` against the real application on a loopback socket (the test client is
/// the peer 127.0.0.1): without it `X-Forwarded-For` changes nothing; with the peer trusted,
/// the client the header names is the one allowlists, login throttles and per-client limits
/// judge — and only the rightmost entry that is not a proxy is believed.
@Suite("Trusted proxies and X-Forwarded-For")
struct TrustedProxyTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The loopback test client as the trusted proxy.
    static func trustLoopback(_ configuration: inout GatewayConfiguration) {
        configuration.trustedProxies = TrustedProxies([IPAddressRange("127.0.0.1")!, IPAddressRange("::1")!])
        configuration.passwordHashCost = 4
    }

    static func fastHashes(_ configuration: inout GatewayConfiguration) { configuration.passwordHashCost = 4 }

    /// A signed ping with a key allowed from 203.0.113.0/24 only, sent with `forwardedFor`.
    static func ping(
        _ harness: GatewayHarness, _ client: any TestClientProtocol, key: MerchantOnboarding.IssuedKey, forwardedFor: String
    ) async throws -> EnvelopeReply {
        var request = SignedRequest(.get, "/v1/test/ping", as: harness.merchant, at: harness.clock)
        request.apiKey = key.record.id
        request.secret = key.secret
        request.extraHeaders[Self.forwardedFor] = forwardedFor
        return try await client.send(request)
    }

    static func documentationKey(_ harness: GatewayHarness) async throws -> MerchantOnboarding.IssuedKey {
        try await MerchantOnboarding(environment: harness.environment).createKey(
            storeId: harness.merchant.storeId, label: "behind the proxy", allowedCIDRs: ["203.0.113.0/24"], rateLimitPerMinute: nil)
    }

    @Test("Without trusted proxies a forwarded address is ignored: the allowlist judges the socket's peer", arguments: Backend.available)
    func allowlistIgnoresUntrustedHeader(backend: Backend) async throws {
        try await GatewayHarness.with(backend) { harness in
            let key = try await Self.documentationKey(harness)
            try await harness.testLive { client in
                let refused = try await Self.ping(harness, client, key: key, forwardedFor: "203.0.113.7")
                #expect(refused.code == 30001, "\(refused.text)")
                #expect(refused.errorMessage?.contains("127.0.0.1") == true, "\(refused.text)")
            }
        }
    }

    @Test("Behind a trusted proxy the allowlist judges the forwarded client, never a spoofed left-most entry", arguments: Backend.available)
    func allowlistBelievesTrustedProxy(backend: Backend) async throws {
        try await GatewayHarness.with(backend, configure: Self.trustLoopback) { harness in
            let key = try await Self.documentationKey(harness)
            try await harness.testLive { client in
                let allowed = try await Self.ping(harness, client, key: key, forwardedFor: "203.0.113.7")
                #expect(allowed.isSuccess, "\(allowed.text)")
                // The client wrote the first entry itself; the proxy appended the address it saw.
                let spoofed = try await Self.ping(harness, client, key: key, forwardedFor: "203.0.113.7, 198.51.100.9")
                #expect(spoofed.code == 30001, "\(spoofed.text)")
                #expect(spoofed.errorMessage?.contains("198.51.100.9") == true, "\(spoofed.text)")
                // A header that does not parse names nobody: the peer (the proxy) is judged.
                let garbled = try await Self.ping(harness, client, key: key, forwardedFor: "203.0.113.7, not-an-address")
                #expect(garbled.code == 30001, "\(garbled.text)")
                #expect(garbled.errorMessage?.contains("127.0.0.1") == true, "\(garbled.text)")
            }
        }
    }

    @Test("Without trusted proxies, failed logins from any forwarded address count against the peer")
    func loginThrottleCountsPeer() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await GatewayHarness.with(.sqlite, configure: Self.fastHashes, clock: clock) { harness in
            try await harness.testLive { client in
                let browser = DashboardTestClient(client)
                for index in 0..<20 {
                    browser.forwardedHeaders[Self.forwardedFor] = "198.51.100.\(index + 1)"
                    #expect(try await browser.logIn(email: "nobody\(index)@shop.example", password: "wrong").status == .unauthorized)
                }
                // Past the form's burst, and then past the address's 20 failures: both count 127.0.0.1.
                browser.forwardedHeaders[Self.forwardedFor] = "198.51.100.200"
                #expect(try await browser.logIn(email: "nobody20@shop.example", password: "wrong").status == .tooManyRequests)
                clock.advance(by: 2)
                let throttled = try await browser.logIn(email: "nobody21@shop.example", password: "wrong")
                #expect(throttled.status == .tooManyRequests && throttled.html.contains("Too many failed attempts"))
            }
        }
    }

    @Test("Behind a trusted proxy, two forwarded clients are throttled separately", arguments: Backend.available)
    func loginThrottlePerForwardedClient(backend: Backend) async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await GatewayHarness.with(backend, configure: Self.trustLoopback, clock: clock) { harness in
            try await harness.testLive { client in
                let guesser = DashboardTestClient(client)
                guesser.forwardedHeaders[Self.forwardedFor] = "198.51.100.1"
                for index in 0..<20 {
                    #expect(try await guesser.logIn(email: "nobody\(index)@shop.example", password: "wrong").status == .unauthorized)
                }
                clock.advance(by: 2)
                // One more post passes the form's rate limit, to the throttle, which counted 20 failures.
                let throttled = try await guesser.logIn(email: "nobody20@shop.example", password: "wrong")
                #expect(throttled.status == .tooManyRequests && throttled.html.contains("Too many failed attempts"))
                // Naming someone else first does not make the guesser someone else.
                guesser.forwardedHeaders[Self.forwardedFor] = "198.51.100.2, 198.51.100.1"
                #expect(try await guesser.logIn(email: "nobody21@shop.example", password: "wrong").status == .tooManyRequests)
                // Another client behind the same proxy logs in as usual.
                let other = DashboardTestClient(client)
                other.forwardedHeaders[Self.forwardedFor] = "198.51.100.2"
                let wrong = try await other.logIn(email: "nobody22@shop.example", password: "wrong")
                #expect(wrong.status == .unauthorized && wrong.html.contains("is not right"))
            }
        }
    }

    /// Sends checkout requests as `forwardedFor` (an unknown token: the limit comes before the
    /// lookup) until one is refused; returns how many were let through.
    static func untilLimited(_ client: any TestClientProtocol, _ forwardedFor: String, atMost: Int = 100) async throws -> Int {
        for index in 0..<atMost {
            let response = try await client.execute(
                uri: "/checkout/no-such-token/state", method: .get, headers: [Self.forwardedFor: forwardedFor], body: nil)
            if response.status == .tooManyRequests { return index }
        }
        return atMost
    }

    @Test("Checkout rate limits: behind a trusted proxy per forwarded client, without one per peer")
    func checkoutLimitPerClient() async throws {
        // A stopped clock: no budget refills while the test counts (a burst of 60).
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
        try await GatewayHarness.with(.sqlite, configure: Self.trustLoopback, clock: clock) { harness in
            try await harness.testLive { client in
                let first = try await Self.untilLimited(client, "198.51.100.1")
                let second = try await Self.untilLimited(client, "198.51.100.2")
                let firstAgain = try await Self.untilLimited(client, "198.51.100.1", atMost: 1)
                #expect(first == 60 && second == 60 && firstAgain == 0, "\(first), \(second), \(firstAgain)")
            }
        }
        try await GatewayHarness.with(.sqlite, clock: clock) { harness in
            try await harness.testLive { client in
                let first = try await Self.untilLimited(client, "198.51.100.1")
                let second = try await Self.untilLimited(client, "198.51.100.2", atMost: 1)
                #expect(first == 60 && second == 0, "\(first), \(second)")
            }
        }
    }

    @Test("trusted.proxies is read as comma-separated CIDRs; a bad entry refuses the configuration")
    func configuration() async throws {
        let good = try await ConfigurationLoader.load(
            overrides: [:], environment: ["STABLEGATE_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32,127.0.0.1"], configFile: nil)
        #expect(good.trustedProxies.ranges.map(\.description) == ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32"])
        #expect(try await ConfigurationLoader.load(overrides: [:], environment: [:], configFile: nil).trustedProxies.ranges.isEmpty)
        do {
            _ = try await ConfigurationLoader.load(
                overrides: [:], environment: ["STABLEGATE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.lan"], configFile: nil)
            Issue.record("a host name was accepted as a trusted proxy")
        } catch let error as ConfigurationError {
            #expect(
                error.problems == [
                    "trusted.proxies: proxy.lan is not an IP address or CIDR range (give CIDRs such as 10.0.0.0/8, separated by commas)"
                ])
        }
    }
}
