import Testing

@testable import StableGateDomain

@Suite("Trusted proxies: who the client is behind X-Forwarded-For")
struct TrustedProxiesTests {
    static let proxies = try! TrustedProxies(list: "10.0.0.0/8, 192.0.2.1, 2001:db8:ffff::/48")

    @Test(
        "From a trusted peer the rightmost entry that is not a proxy is the client",
        arguments: [
            (["203.0.113.7"], "203.0.113.7"),
            // The client wrote the left entries itself.
            (["198.51.100.1, 203.0.113.7"], "203.0.113.7"),
            // A second proxy (a load balancer) appended its own hop.
            (["198.51.100.1, 203.0.113.7, 10.1.2.3"], "203.0.113.7"),
            // Several header fields are one list.
            (["198.51.100.1", "203.0.113.7", "192.0.2.1"], "203.0.113.7"),
            // Ports and brackets, as some proxies write them.
            (["203.0.113.7:4711"], "203.0.113.7"), (["[2001:db8::7]:443"], "2001:db8::7"), (["2001:db8::7"], "2001:db8::7"),
            // Every hop a proxy: the leftmost is the client (a proxy's own request).
            (["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
            // Not parsable where it is read: the peer.
            (["unknown"], "10.0.0.5"), (["203.0.113.7, "], "10.0.0.5"), ([""], "10.0.0.5"), (["203.0.113.7:"], "10.0.0.5"),
            (["[2001:db8::7"], "10.0.0.5"), (["203.0.113.7, garbage, 10.1.2.3"], "10.0.0.5"),
            // Garbage left of the client is never read.
            (["garbage, 203.0.113.7"], "203.0.113.7"),
        ])
    func trustedPeer(headers: [String], client: String) {
        #expect(Self.proxies.clientAddress(peer: "10.0.0.5", forwardedFor: headers) == client)
    }

    @Test("An untrusted peer, no header, or no proxies configured: the peer is the client")
    func untrustedPeer() {
        #expect(Self.proxies.clientAddress(peer: "198.51.100.9", forwardedFor: ["203.0.113.7"]) == "198.51.100.9")
        #expect(Self.proxies.clientAddress(peer: "10.0.0.5", forwardedFor: []) == "10.0.0.5")
        #expect(TrustedProxies().clientAddress(peer: "10.0.0.5", forwardedFor: ["203.0.113.7"]) == "10.0.0.5")
        #expect(Self.proxies.clientAddress(peer: nil, forwardedFor: ["203.0.113.7"]) == nil)
        // A dual-stack socket reports an IPv4 proxy IPv4-mapped.
        #expect(Self.proxies.clientAddress(peer: "::ffff:192.0.2.1", forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
    }

    @Test("The list is CIDRs or addresses separated by commas; anything else is named")
    func parsing() throws {
        #expect(try TrustedProxies(list: "").ranges.isEmpty)
        #expect(try TrustedProxies(list: " 127.0.0.1 , ::1,").ranges.map(\.description) == ["127.0.0.1/32", "::1/128"])
        #expect(throws: TrustedProxiesError.self) { try TrustedProxies(list: "10.0.0.0/8, 10.0.0.1/8") }
        do {
            _ = try TrustedProxies(list: "127.0.0.1, localhost")
            Issue.record("localhost was accepted")
        } catch {
            #expect(error.entry == "localhost")
        }
    }
}
