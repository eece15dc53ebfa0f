/// Which addresses the gateway may connect to when it calls a merchant's URL (webhooks): the
/// guard against server-side request forgery. It judges the addresses a host name resolved to,
/// at connect time, so a name that later resolves elsewhere (DNS rebinding) changes nothing.
public enum OutboundAddressPolicy {
    /// What kind of address it is.
    public enum AddressClass: String, Sendable, Equatable {
        case global = "public"
        case loopback
        case privateNetwork = "private"
        case linkLocal = "link-local"
        /// Cloud instance metadata services (169.254.169.254, fd00:ec2::254, 100.100.100.200).
        case metadata
        case unspecified
        case multicast
        /// Carrier-grade NAT, benchmarking, documentation, IETF-reserved and other ranges that
        /// are not reachable destinations on the public internet.
        case reserved
    }

    /// Classifies 4- or 16-byte addresses; IPv4-mapped and NAT64 IPv6 addresses are judged by
    /// the IPv4 address inside.
    public static func classify(_ bytes: [UInt8]) -> AddressClass {
        if bytes.count == 4 { return classifyIPv4(bytes) }
        guard bytes.count == 16 else { return .reserved }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return classifyIPv4(Array(bytes[12...])) }
        if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return classifyIPv4(Array(bytes[12...])) }
        if bytes.allSatisfy({ $0 == 0 }) { return .unspecified }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return .loopback }
        if bytes == [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54] { return .metadata }
        if bytes[0] == 0xFF { return .multicast }
        if bytes[0] & 0xFE == 0xFC { return .privateNetwork }  // fc00::/7 unique local
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return .linkLocal }  // fe80::/10
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return .privateNetwork }  // fec0::/10 site-local (deprecated)
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return .reserved }  // 2001:db8::/32 documentation
        if bytes[0] == 0x01 && bytes[1..<8].allSatisfy({ $0 == 0 }) { return .reserved }  // 100::/64 discard
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return .reserved }  // ::/96 IPv4-compatible (deprecated)
        if bytes[0] & 0xE0 != 0x20 { return .reserved }  // outside 2000::/3, the global unicast space
        return .global
    }

    private static func classifyIPv4(_ b: [UInt8]) -> AddressClass {
        switch (b[0], b[1], b[2], b[3]) {
        case (169, 254, 169, 254), (100, 100, 100, 200): return .metadata
        case (0, _, _, _): return .unspecified
        case (127, _, _, _): return .loopback
        case (10, _, _, _), (172, 16...31, _, _), (192, 168, _, _): return .privateNetwork
        case (169, 254, _, _): return .linkLocal
        case (100, 64...127, _, _): return .reserved  // shared address space (carrier-grade NAT)
        case (192, 0, 0, _), (192, 0, 2, _), (198, 18...19, _, _), (198, 51, 100, _), (203, 0, 113, _): return .reserved
        case (224...239, _, _, _): return .multicast
        case (240...255, _, _, _): return .reserved
        default: return .global
        }
    }

    /// Why the gateway must not connect to `bytes`, or nil when it may. `allowLocal` (the
    /// sandbox) lets loopback and private networks through — a developer's receiver runs
    /// there — but never metadata, link-local, unspecified, multicast or reserved addresses.
    public static func refusal(_ bytes: [UInt8], allowLocal: Bool) -> String? {
        let kind = classify(bytes)
        switch kind {
        case .global: return nil
        case .loopback, .privateNetwork: return allowLocal ? nil : "\(kind.rawValue) address"
        case .linkLocal, .metadata, .unspecified, .multicast, .reserved: return "\(kind.rawValue) address"
        }
    }

    /// Parses an IPv4 or IPv6 literal (as in a URL's host, without brackets).
    public static func literal(_ text: String) -> [UInt8]? {
        IPAddressRange.parseAddress(text)
    }
}
