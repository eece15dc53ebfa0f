import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Named points where the sandbox can be told to die abruptly (SIGKILL), so tests prove that a
/// crash there loses nothing and sends nothing twice. Armed only by the environment variable
/// `STABLEGATE_FAULT_INJECTION` (a comma-separated list of point names) and only in sandbox mode.
public enum FaultPoint: String, Sendable, CaseIterable {
    /// A sweep transaction was broadcast, its new state not yet recorded.
    case afterSweepBroadcast = "after-sweep-broadcast"
    /// A shopper's payment or withdrawal was approved and debited; nothing signed yet.
    case afterAccountApproval = "after-account-approval"
    /// An account transfer's transaction was signed and stored, not yet broadcast.
    case afterAccountSigned = "after-account-signed"
    /// An account transfer's transaction was broadcast, its new state not yet recorded.
    case afterAccountBroadcast = "after-account-broadcast"

    /// Points armed for this process.
    nonisolated(unsafe) public static var armed: Set<FaultPoint> = []

    /// Arms the points named in `STABLEGATE_FAULT_INJECTION`.
    public static func arm(fromEnvironment value: String?) {
        armed = Set((value ?? "").split(separator: ",").compactMap { FaultPoint(rawValue: String($0).trimmingCharacters(in: .whitespaces)) })
    }

    /// Kills the process here when this point is armed.
    public func trigger() {
        guard FaultPoint.armed.contains(self) else { return }
        let message = Array("stablegate: fault injection at \(rawValue): SIGKILL\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        kill(getpid(), SIGKILL)
    }
}
