// Full Foundation: ProcessInfo.hostName.
import Foundation
import StableGateEthereum

#if canImport(Glibc)
import Glibc
#endif

/// A chain lease holder's name: `host/pid/random` (the random part tells two runs of the same
/// pid apart). Used to tell whether a holder is provably gone.
public enum LeaseHolder {
    /// The name this process gives itself.
    public static func name(random: String) -> String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(random)"
    }

    /// True only when `holder` names a process on this host that no longer exists. A holder on
    /// another host, an unreadable name, or a pid that exists (even reused by another program)
    /// is not proof: then the lease is waited out.
    public static func isGone(_ holder: String) -> Bool {
        let parts = holder.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]), pid > 0,
            pid != ProcessInfo.processInfo.processIdentifier
        else { return false }
        #if canImport(Glibc)
        return kill(pid, 0) == -1 && errno == ESRCH
        #else
        return false
        #endif
    }
}
