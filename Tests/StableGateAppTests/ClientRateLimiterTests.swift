import Foundation
import Testing

@testable import StableGateApp

/// The in-memory per-client budgets of the public endpoints and the login forms.
@Suite("Client rate limiter: one budget per IPv4 address or IPv6 /64, never reset for everyone")
struct ClientRateLimiterTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("An IPv6 client is its /64: addresses within it share one budget, the next /64 has its own")
    func ipv6ByPrefix() {
        let limiter = ClientRateLimiter(perMinute: 1, burst: 2)
        #expect(limiter.take(client: "2001:db8:0:1::1", now: Self.now) == nil)
        #expect(limiter.take(client: "2001:DB8:0:1:ffff:ffff:ffff:fffe", now: Self.now) == nil)
        // A thousand more addresses of the same /64 are the same client, out of budget.
        for host in 2...1001 {
            #expect(limiter.take(client: "2001:db8:0:1::\(String(host, radix: 16))", now: Self.now) == 60)
        }
        #expect(limiter.take(client: "2001:db8:0:2::1", now: Self.now) == nil, "the neighbouring /64 is another client")
        #expect(ClientRateLimiter.bucket(for: "2001:DB8::5") == "2001:db8:0:0::/64")
        #expect(ClientRateLimiter.bucket(for: "fe80::1%eth0") == "fe80:0:0:0::/64")
        #expect(ClientRateLimiter.bucket(for: "unknown") == "unknown")
    }

    @Test("An IPv4 client is its full address, also when written IPv4-mapped")
    func ipv4ByAddress() {
        let limiter = ClientRateLimiter(perMinute: 1, burst: 1)
        #expect(limiter.take(client: "203.0.113.7", now: Self.now) == nil)
        #expect(limiter.take(client: "::ffff:203.0.113.7", now: Self.now) != nil)
        #expect(limiter.take(client: "203.0.113.8", now: Self.now) == nil)
    }

    @Test("Past its capacity the limiter forgets the clients idle longest, not everyone")
    func evictsWithoutReset() {
        let limiter = ClientRateLimiter(perMinute: 1, burst: 1, maximumClients: 10)
        // A noisy client spends its budget…
        #expect(limiter.take(client: "198.51.100.1", now: Self.now) == nil)
        #expect(limiter.take(client: "198.51.100.1", now: Self.now) != nil)
        // …then comes from a hundred more /64s, ten a second (too fast to earn a request back
        // at one a minute), while still being refused.
        for index in 1...100 {
            let moment = Self.now.addingTimeInterval(Double(index) / 10)
            #expect(limiter.take(client: "2001:db8:\(String(index, radix: 16))::1", now: moment) == nil)
            #expect(limiter.take(client: "198.51.100.1", now: moment) != nil, "refused after \(index) new clients")
        }
        // The newest clients keep their spent budgets; the oldest were forgotten.
        let end = Self.now.addingTimeInterval(10.1)
        #expect(limiter.take(client: "2001:db8:64::1", now: end) != nil, "the newest /64 (100) is still out of budget")
        #expect(limiter.take(client: "2001:db8:1::1", now: end) == nil, "the oldest /64 was forgotten: a fresh budget")
    }
}
