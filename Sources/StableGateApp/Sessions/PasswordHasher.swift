import CCrypt
import Foundation
import NIOPosix
import StableGateDomain

/// bcrypt (`$2b$`) through Debian's libxcrypt, run on a thread pool because it is slow on
/// purpose. Passwords are 10–72 bytes (bcrypt reads no further than 72).
public struct PasswordHasher: Sendable {
    /// log2 of the bcrypt rounds: 12 in production; tests may use less.
    public let cost: Int

    public init(cost: Int = 12) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4–31")
        self.cost = cost
    }

    /// Why a password is not acceptable.
    public static func problem(with password: String) -> String? {
        let bytes = password.utf8.count
        if password.count < 10 { return "a password needs at least 10 characters" }
        if bytes > 72 { return "a password may be at most 72 bytes (bcrypt ignores the rest)" }
        return nil
    }

    /// A new bcrypt hash of `password` with a fresh random salt.
    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive {
            var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
            guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &setting, Int32(setting.count)) != nil else {
                throw PasswordHashError()
            }
            return try Self.crypt(password, setting: setting)
        }
    }

    /// Whether `password` matches a stored bcrypt hash, in constant time over the hash.
    public func verify(_ password: String, hash stored: String) async throws -> Bool {
        guard stored.hasPrefix("$2") else { return false }
        return try await NIOThreadPool.singleton.runIfActive {
            ConstantTime.equals(try Self.crypt(password, setting: Array(stored.utf8CString)), stored)
        }
    }

    /// A hash to compare against when the account does not exist, so a wrong e-mail costs the
    /// same time as a wrong password.
    public func dummyVerify(_ password: String) async {
        _ = try? await verify(password, hash: "$2b$\(cost < 10 ? "0" : "")\(cost)$CwTycUXWue0Thq9StjUM0uJ8u0mBm8bSk4i.8h8IXDQ0Aj6Q0yD1m")
    }

    private static func crypt(_ password: String, setting: [CChar]) throws -> String {
        var data = crypt_data()
        let result = withUnsafeMutableBytes(of: &data) { raw -> String? in
            // crypt_rn answers "*" for a failure.
            guard let output = crypt_rn(password, setting, raw.baseAddress, Int32(raw.count)), output.pointee != 0x2A else { return nil }
            return String(cString: output)
        }
        guard let result else { throw PasswordHashError() }
        return result
    }
}

/// bcrypt failed (a malformed stored hash or a libxcrypt error). Never carries the password.
public struct PasswordHashError: Error, Sendable, CustomStringConvertible {
    public var description: String { "password hashing failed" }
}
