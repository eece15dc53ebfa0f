import Foundation
import Synchronization

/// The current time, injected so tests can move it.
public protocol WallClock: Sendable {
    var now: Date { get }
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that only moves when told to, for tests.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>
    public init(_ start: Date) { current = Mutex(start) }
    public var now: Date { current.withLock { $0 } }
    /// Moves the clock forward (or back, with a negative interval).
    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
    /// Sets the clock.
    public func set(_ date: Date) { current.withLock { $0 = date } }
}

extension Date {
    /// Unix time in whole milliseconds, the form times are stored in.
    public var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The date of a Unix time in milliseconds.
    public init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(unixMilliseconds) / 1000)
    }
}
