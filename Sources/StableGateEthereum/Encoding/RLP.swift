import BigInt

/// Recursive Length Prefix encoding, for transactions.
public indirect enum RLPItem: Sendable, Equatable {
    case bytes([UInt8])
    case list([RLPItem])

    /// An unsigned integer item (minimal big-endian, zero as the empty string).
    public static func uint(_ value: BigUInt) -> RLPItem { .bytes(value.minimalBytes) }
    /// An unsigned integer item.
    public static func uint(_ value: UInt64) -> RLPItem { .uint(BigUInt(value)) }

    /// The encoding.
    public var encoded: [UInt8] {
        switch self {
        case .bytes(let bytes):
            if bytes.count == 1, bytes[0] < 0x80 { return bytes }
            return Self.header(length: bytes.count, offset: 0x80) + bytes
        case .list(let items):
            let payload = items.flatMap(\.encoded)
            return Self.header(length: payload.count, offset: 0xC0) + payload
        }
    }

    private static func header(length: Int, offset: UInt8) -> [UInt8] {
        if length < 56 { return [offset + UInt8(length)] }
        let lengthBytes = BigUInt(length).minimalBytes
        return [offset + 55 + UInt8(lengthBytes.count)] + lengthBytes
    }
}
