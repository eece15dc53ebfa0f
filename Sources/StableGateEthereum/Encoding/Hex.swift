import BigInt
import StableGateDomain

/// Hex text as Ethereum JSON-RPC writes it.
public enum Hex {
    /// Decodes `0x`-prefixed (or bare) hex with an even number of digits.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.utf8.count.isMultiple(of: 2) else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.utf8.count / 2)
        var high: UInt8?
        for character in digits.utf8 {
            let value: UInt8
            switch character {
            case 0x30...0x39: value = character - 0x30
            case 0x41...0x46: value = character - 0x41 + 10
            case 0x61...0x66: value = character - 0x61 + 10
            default: return nil
            }
            if let pending = high {
                bytes.append(pending << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// `0x` + lower-case hex.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        "0x" + bytes.hexString
    }

    /// A JSON-RPC quantity (`0x0`, `0x1a`: no leading zeros).
    public static func quantity(_ value: BigUInt) -> String {
        "0x" + String(value, radix: 16)
    }

    /// A JSON-RPC quantity from an integer.
    public static func quantity(_ value: some BinaryInteger) -> String {
        "0x" + String(value, radix: 16)
    }

    /// Parses a JSON-RPC quantity.
    public static func parseQuantity(_ text: String) -> BigUInt? {
        guard text.hasPrefix("0x"), text.count > 2 else { return nil }
        return BigUInt(text.dropFirst(2), radix: 16)
    }
}

extension BigUInt {
    /// Big-endian bytes left-padded to `width`, or nil when the value does not fit.
    public func paddedBytes(width: Int) -> [UInt8]? {
        let bytes = Array(serialize())
        guard bytes.count <= width else { return nil }
        return [UInt8](repeating: 0, count: width - bytes.count) + bytes
    }

    /// Minimal big-endian bytes (empty for zero), as RLP wants integers.
    public var minimalBytes: [UInt8] {
        Array(serialize().drop(while: { $0 == 0 }))
    }
}
