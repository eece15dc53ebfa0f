import Crypto
import Foundation

/// Encrypts secrets at rest (API secrets now; wallet seeds and keys later) with AES-256-GCM
/// under the operator's master key, which lives in configuration, never in the database.
///
/// Sealed text is `v1:` + base64(nonce ‖ ciphertext ‖ tag). The purpose string is bound as
/// authenticated data, so a ciphertext copied from one column to another does not decrypt.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// A box for a 32-byte master key.
    public init(masterKey: [UInt8]) throws(SecretBoxError) {
        guard masterKey.count == 32 else {
            throw SecretBoxError("the master key must be 32 bytes (base64 of 32 random bytes), got \(masterKey.count)")
        }
        key = SymmetricKey(data: masterKey)
    }

    /// Parses a master key given as base64 text.
    public init(base64MasterKey: String) throws(SecretBoxError) {
        guard let bytes = Data(base64Encoded: base64MasterKey.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SecretBoxError("the master key is not valid base64")
        }
        try self.init(masterKey: Array(bytes))
    }

    /// A new random master key as base64 text.
    public static func generateMasterKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Encrypts `plaintext` for `purpose`.
    public func seal(_ plaintext: String, purpose: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key, authenticating: Array(purpose.utf8))
        guard let combined = box.combined else { throw SecretBoxError("AES-GCM produced no combined representation") }
        return "v1:" + combined.base64EncodedString()
    }

    /// HMAC-SHA-256 of a fixed label under the key: what ``fingerprint`` shows a prefix of.
    var fingerprintBytes: [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("StableGate master key fingerprint".utf8), using: key))
    }

    /// Decrypts what ``seal(_:purpose:)`` produced for the same purpose.
    public func open(_ sealed: String, purpose: String) throws(SecretBoxError) -> String {
        guard sealed.hasPrefix("v1:"), let combined = Data(base64Encoded: String(sealed.dropFirst(3))) else {
            throw SecretBoxError("sealed secret has an unknown format")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plaintext = try AES.GCM.open(box, using: key, authenticating: Array(purpose.utf8))
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw SecretBoxError("secret could not be decrypted: wrong master key or tampered data")
        }
    }
}

/// A master key or sealed secret that cannot be used. Never carries secret material.
public struct SecretBoxError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
