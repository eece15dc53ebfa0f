import Foundation
import Synchronization

/// Makes the identifiers StableGate hands out. Injected, so tests can make them predictable.
public protocol IdentifierGenerator: Sendable {
    /// A new 24-character lower-case hex id shaped like a MongoDB ObjectId (4-byte time,
    /// 5 random bytes, 3-byte counter), as AllScale's checkout intent ids are.
    func objectId(at date: Date) -> String
    /// `count` cryptographically random bytes.
    func randomBytes(_ count: Int) -> [UInt8]
}

extension IdentifierGenerator {
    /// A prefixed random token of `byteCount` bytes in lower-case hex, e.g. `sgk_3f9a…`.
    public func token(prefix: String, byteCount: Int) -> String {
        prefix + randomBytes(byteCount).hexString
    }
}

/// The production generator: system CSPRNG, process-wide counter.
public final class SystemIdentifierGenerator: IdentifierGenerator {
    private let processRandom: [UInt8]
    private let counter: Atomic<UInt32>

    /// Creates a generator with a fresh per-process random part and counter start.
    public init() {
        var rng = SystemRandomNumberGenerator()
        processRandom = (0..<5).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        counter = Atomic(UInt32.random(in: 0..<0xFF_FFFF, using: &rng))
    }

    public func objectId(at date: Date) -> String {
        let seconds = UInt32(truncatingIfNeeded: Int64(date.timeIntervalSince1970))
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue & 0xFF_FFFF
        var bytes = [UInt8]()
        bytes.reserveCapacity(12)
        bytes += [UInt8(seconds >> 24), UInt8(seconds >> 16 & 0xFF), UInt8(seconds >> 8 & 0xFF), UInt8(seconds & 0xFF)]
        bytes += processRandom
        bytes += [UInt8(count >> 16), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        return bytes.hexString
    }

    public func randomBytes(_ count: Int) -> [UInt8] {
        // Eight bytes per draw: each draw from the system generator is a getrandom call.
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: rng.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}

/// Checks the shape of checkout intent ids.
public enum ObjectIdFormat {
    /// True for exactly 24 lower-case hex characters.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 24 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
