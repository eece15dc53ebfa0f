import Testing

@testable import StableGateDomain

@Suite("IP allowlists")
struct IPAddressRangeTests {
    @Test(
        "Parses CIDR ranges and single addresses",
        arguments: [
            ("203.0.113.0/24", "203.0.113.0/24"), ("203.0.113.7", "203.0.113.7/32"), ("0.0.0.0/0", "0.0.0.0/0"),
            ("::1", "::1/128"), ("2001:db8::/32", "2001:db8::/32"), ("::/0", "::/0"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"),
            ("::ffff:10.0.0.0/104", "::ffff:a00:0/104"), ("fe80::1:2", "fe80::1:2/128"), ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7/128"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0/128"), ("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::/128"),
        ])
    func parses(text: String, normalized: String) throws {
        #expect(try #require(IPAddressRange(text)).description == normalized)
    }

    @Test(
        "Refuses malformed ranges",
        arguments: [
            "", "203.0.113", "203.0.113.256", "203.0.113.1/33", "203.0.113.1/24", "01.2.3.4", "1.2.3.4/-1", "1.2.3.4/+8",
            "::1::2", "2001:db8::/129", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "localhost",
        ])
    func refuses(text: String) {
        #expect(IPAddressRange(text) == nil)
    }

    @Test("Matches addresses inside the range only")
    func matches() throws {
        let v4 = try #require(IPAddressRange("203.0.113.0/24"))
        #expect(v4.contains("203.0.113.7"))
        #expect(v4.contains("203.0.113.255"))
        #expect(!v4.contains("203.0.114.1"))
        #expect(v4.contains("::ffff:203.0.113.9"))
        #expect(!v4.contains("not an ip"))
        let v6 = try #require(IPAddressRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(!v6.contains("203.0.113.7"))
        #expect(try #require(IPAddressRange("127.0.0.1")).contains("127.0.0.1"))
        #expect(try #require(IPAddressRange("0.0.0.0/0")).contains("8.8.8.8"))
        #expect(!(try #require(IPAddressRange("10.0.0.0/8"))).contains("127.0.0.1"))
    }
}

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test("Equal only for the same bytes, whatever the length or position of a difference")
    func equals() {
        #expect(ConstantTime.equals("c63197ac565528ca", "c63197ac565528ca"))
        #expect(!ConstantTime.equals("c63197ac565528ca", "c63197ac565528cb"))
        #expect(!ConstantTime.equals("c63197ac565528ca", "d63197ac565528ca"))
        #expect(!ConstantTime.equals("c63197ac565528ca", "c63197ac565528c"))
        #expect(!ConstantTime.equals("", "x"))
        #expect(ConstantTime.equals("", ""))
        #expect(ConstantTime.equals("Zoë", "Zoë") && !ConstantTime.equals("Zoë", "Zoe"))
    }
}
