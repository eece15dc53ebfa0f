/// An IPv4 or IPv6 network in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`), or a single
/// address (`203.0.113.7`), used for API key IP allowlists.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    /// Network address bytes (4 or 16).
    public let network: [UInt8]
    /// Prefix length in bits.
    public let prefixLength: Int

    /// Parses CIDR text. Host bits set under the prefix are an error, as a typo would be.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddressRange.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= maximum, !parts[1].hasPrefix("+") else { return nil }
            prefix = value
        }
        guard IPAddressRange.masked(address, prefix) == address else { return nil }
        network = address
        prefixLength = prefix
    }

    /// Whether an address (text form, as a socket reports it) lies in this range. IPv4-mapped
    /// IPv6 addresses (`::ffff:203.0.113.7`) match IPv4 ranges.
    public func contains(_ addressText: String) -> Bool {
        guard var address = IPAddressRange.parseAddress(addressText) else { return false }
        if address.count == 16, network.count == 4, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            address = Array(address[12..<16])
        }
        guard address.count == network.count else { return false }
        return IPAddressRange.masked(address, prefixLength) == network
    }

    public var description: String {
        IPAddressRange.format(network) + "/\(prefixLength)"
    }

    private static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = max(0, min(8, prefix - index * 8))
            return bitsHere == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (with `::` and an embedded IPv4 tail).
    static func parseAddress(_ text: String) -> [UInt8]? {
        guard text.contains(":") else { return parseIPv4(Substring(text)) }
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }  // zone id
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
            guard !part.isEmpty else { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if piece.contains(".") {
                    guard allowIPv4Tail, index == pieces.count - 1, let v4 = parseIPv4(piece) else { return nil }
                    bytes += v4
                } else {
                    guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
            }
            return bytes
        }
        if halves.count == 1 {
            guard let bytes = groups(halves[0], allowIPv4Tail: true), bytes.count == 16 else { return nil }
            return bytes
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
            head.count + tail.count <= 14
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part),
                !(part.count > 1 && part.hasPrefix("0"))
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// Dotted IPv4, or IPv6 in the RFC 5952 form: lower-case hex, the longest run of two or
    /// more zero groups (the first, on a tie) written as `::`.
    private static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < groups.count && groups[end] == 0 { end += 1 }
            if end - index >= 2 && end - index > (best?.count ?? 0) { best = index..<end }
            index = end
        }
        let hex = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return hex(groups[...]) }
        return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
    }
}
