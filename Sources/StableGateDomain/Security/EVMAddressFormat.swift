/// The textual shape of an EVM address. (EIP-55 checksum validation lives with the chain code.)
public enum EVMAddressFormat {
    /// True for `0x` followed by exactly 40 hex digits.
    public static func isValid(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 42, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") else { return false }
        return utf8[2...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
