// Foundation, not FoundationEssentials: the schedule's text form is parsed with CharacterSet.
import Foundation

/// When to try a failed delivery again: the first attempt is immediate, then each failure
/// waits the next delay of the list; when the list is used up, the delivery has failed.
public struct RetrySchedule: Sendable, Equatable {
    /// Seconds to wait after the 1st, 2nd, … failed attempt.
    public let delays: [TimeInterval]

    public init(delays: [TimeInterval]) {
        self.delays = delays
    }

    /// Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h — 13 attempts over about
    /// three days (77.6 h from the first to the last).
    public static let webhooks = RetrySchedule(delays: [5, 300, 1_800, 7_200, 18_000] + Array(repeating: 36_000, count: 7))

    /// E-mail: 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h — about a day.
    public static let email = RetrySchedule(delays: [60, 300, 900, 3_600, 10_800, 21_600, 43_200])

    /// When to make the next attempt after `attempts` failed ones (1-based), or nil to give up.
    public func nextAttempt(afterFailedAttempts attempts: Int, at now: Date) -> Date? {
        guard attempts >= 1, attempts <= delays.count else { return nil }
        return now.addingTimeInterval(delays[attempts - 1])
    }

    /// The total time from the first attempt to the last, if every attempt fails at once.
    public var span: TimeInterval { delays.reduce(0, +) }

    /// Parses `5,300,1800` (seconds), as the configuration gives it.
    public init?(text: String) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var delays: [TimeInterval] = []
        for part in parts {
            guard let value = Double(part), value >= 0, value.isFinite else { return nil }
            delays.append(value)
        }
        guard !delays.isEmpty else { return nil }
        self.init(delays: delays)
    }
}

/// What one delivery attempt came to, by the receiver's answer.
public enum DeliveryVerdict: String, Sendable, Equatable {
    /// A 2xx answer within the timeout: done.
    case delivered
    /// 410 Gone: the receiver asks never to send this again.
    case gone
    /// Anything else (another status, a timeout, a refused connection): try again later.
    case retry

    public init(httpStatus: Int?) {
        switch httpStatus {
        case .some(200...299): self = .delivered
        case .some(410): self = .gone
        default: self = .retry
        }
    }
}
