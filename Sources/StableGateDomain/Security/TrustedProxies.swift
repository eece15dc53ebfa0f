/// The reverse proxies whose `X-Forwarded-For` the gateway believes, and how it finds the
/// client's address behind them.
///
/// The gateway serves no TLS: in production a proxy terminates it, and the socket's peer is then
/// the proxy for every client. The proxy names the client in `X-Forwarded-For`, but anyone can
/// send that header, so it is believed only from a peer inside one of these ranges — and even
/// then only its right-hand end: each proxy appends the address it saw, so the entries a client
/// wrote come first and the rightmost entry that is not itself a trusted proxy is the client
/// the first trusted proxy saw. With no ranges (the default) no header is believed.
public struct TrustedProxies: Sendable, Equatable {
    /// The proxies' networks.
    public let ranges: [IPAddressRange]

    public init(_ ranges: [IPAddressRange] = []) {
        self.ranges = ranges
    }

    /// Reads a comma-separated list of CIDR ranges or single addresses (`10.0.0.0/8, ::1`);
    /// throws with the first entry that is neither.
    public init(list: String) throws(TrustedProxiesError) {
        var ranges: [IPAddressRange] = []
        for entry in list.split(separator: ",") {
            let text = String(entry).trimmedASCIIWhitespace
            guard !text.isEmpty else { continue }
            guard let range = IPAddressRange(text) else { throw TrustedProxiesError(entry: text) }
            ranges.append(range)
        }
        self.init(ranges)
    }

    /// Whether `address` (text, as a socket or a header gives it) is one of the proxies.
    public func isTrusted(_ address: String) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address: the socket peer, unless the peer is a trusted proxy that sent
    /// `X-Forwarded-For` — then the rightmost entry that is not a trusted proxy (the leftmost
    /// when every entry is one). A header that does not parse where it is read falls back to
    /// the peer, which is then the proxy, never a guess.
    ///
    /// - Parameters:
    ///   - peer: the socket's peer address; nil when unknown (then nil is returned).
    ///   - forwardedFor: every `X-Forwarded-For` field of the request, in order (several
    ///     fields are one list, RFC 9110 §5.3).
    /// - Returns: the address to judge the client by; nil only when `peer` is nil.
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, !ranges.isEmpty, isTrusted(peer), !forwardedFor.isEmpty else { return peer }
        let entries = forwardedFor.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        var leftmost: String?
        for entry in entries.reversed() {
            guard let address = Self.address(in: entry) else { return peer }
            guard isTrusted(address) else { return address }
            leftmost = address
        }
        return leftmost ?? peer
    }

    /// The address in one `X-Forwarded-For` entry: an IPv4 or IPv6 address, bracketed or with
    /// a port as some proxies write it (`203.0.113.7:4711`, `[2001:db8::1]:443`); nil otherwise.
    static func address(in entry: Substring) -> String? {
        var text = String(entry).trimmedASCIIWhitespace
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isASCIIDigit) && rest.count > 1) else { return nil }
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            // IPv4 with a port; an IPv6 address has at least two colons.
            let port = text[text.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isASCIIDigit) else { return nil }
            text = String(text[..<colon])
        }
        guard IPAddressRange.parseAddress(text) != nil else { return nil }
        return text
    }
}

/// A `trusted.proxies` entry that is not an address or a CIDR range.
public struct TrustedProxiesError: Error, Sendable, CustomStringConvertible {
    public let entry: String
    public var description: String { "\(entry) is not an IP address or CIDR range" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate var trimmedASCIIWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
