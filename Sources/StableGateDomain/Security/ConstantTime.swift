/// Comparison of secrets (CSRF tokens, password hashes) whose time does not depend on where
/// they first differ, so an attacker cannot learn a secret one byte at a time. Only the length
/// may leak, and every secret compared here has a fixed, public length.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same UTF-8 bytes.
    public static func equals(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
