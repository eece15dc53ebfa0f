// Full Foundation, not FoundationEssentials: named time zones (DST rules) need it on Linux.
import Foundation

/// A report's period: one local calendar day or month in the store's reporting time zone,
/// as the UTC instants it starts and ends at (end exclusive). Days are 23 or 25 hours long
/// across daylight-saving changes; months are 28–31 days.
public struct ReportPeriod: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case daily
        case monthly
    }

    public let kind: Kind
    /// The local date that names the period: the day, or the first of the month.
    public let year: Int
    public let month: Int
    public let day: Int
    public let start: Date
    public let end: Date

    /// `2026-11-20` for a day, `2026-11` for a month.
    public var label: String {
        kind == .daily ? String(format: "%04d-%02d-%02d", year, month, day) : String(format: "%04d-%02d", year, month)
    }

    public var description: String { "\(kind.rawValue) \(label)" }

    /// The period of `kind` that contains the local date `year-month-day` in `timeZone`.
    public init?(kind: Kind, year: Int, month: Int, day: Int, timeZone: TimeZone) {
        let calendar = Self.calendar(timeZone)
        let first = kind == .daily ? day : 1
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: first)),
            calendar.component(.day, from: start) == first, calendar.component(.month, from: start) == month,
            let end = calendar.date(byAdding: kind == .daily ? .day : .month, value: 1, to: start)
        else { return nil }
        self.kind = kind
        self.year = year
        self.month = month
        self.day = first
        self.start = start
        self.end = end
    }

    /// The period of `kind` that contains the instant `date`.
    public init(kind: Kind, containing date: Date, timeZone: TimeZone) {
        let parts = Self.calendar(timeZone).dateComponents([.year, .month, .day], from: date)
        self.init(kind: kind, year: parts.year!, month: parts.month!, day: parts.day!, timeZone: timeZone)!
    }

    /// The period just before this one.
    public func previous(timeZone: TimeZone) -> ReportPeriod {
        ReportPeriod(kind: kind, containing: start.addingTimeInterval(-1), timeZone: timeZone)
    }

    /// When this period's report is due: on the local day the period ends, at `hour:minute`.
    public func dueAt(hour: Int, minute: Int, timeZone: TimeZone) -> Date {
        let calendar = Self.calendar(timeZone)
        let endDay = calendar.dateComponents([.year, .month, .day], from: end)
        // A send time inside a daylight-saving gap moves forward to the first valid instant.
        return calendar.date(from: DateComponents(year: endDay.year, month: endDay.month, day: endDay.day, hour: hour, minute: minute)) ?? end
    }

    /// The periods whose reports are due by `now`, newest first, at most `limit` of them and
    /// none that ended before `notBefore` (a store's creation, say): what a scheduler that
    /// was down for a while has to catch up on.
    public static func due(
        kind: Kind, now: Date, hour: Int, minute: Int, timeZone: TimeZone, notBefore: Date, limit: Int
    ) -> [ReportPeriod] {
        var periods: [ReportPeriod] = []
        var candidate = ReportPeriod(kind: kind, containing: now, timeZone: timeZone).previous(timeZone: timeZone)
        while periods.count < limit, candidate.end > notBefore {
            if candidate.dueAt(hour: hour, minute: minute, timeZone: timeZone) <= now { periods.append(candidate) }
            candidate = candidate.previous(timeZone: timeZone)
        }
        return periods
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
