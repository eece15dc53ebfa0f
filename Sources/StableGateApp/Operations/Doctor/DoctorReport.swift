import Foundation
import StableGateDomain

/// How one of `stablegate doctor`'s checks came out.
public enum DoctorStatus: String, Sendable, Equatable {
    /// Works as configured.
    case ok
    /// Works, but something needs attention soon (or could not be checked).
    case warn
    /// Broken: the gateway cannot do this part of its job; the doctor exits 1.
    case fail

    /// As printed in the text report.
    var label: String {
        switch self {
        case .ok: "ok"
        case .warn: "warn"
        case .fail: "FAIL"
        }
    }
}

/// One check's result: what was checked, what was found and, unless it is fine, what to do.
public struct DoctorCheck: Sendable, Equatable {
    /// A stable name (`database`, `chain 1 rpc[0]`, `smtp`, …).
    public let name: String
    public let status: DoctorStatus
    /// What was found. Never a secret: URLs are shown as scheme, host and port only.
    public let detail: String
    /// What the operator should do; nil when nothing.
    public let action: String?

    public init(name: String, status: DoctorStatus, detail: String, action: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.action = action
    }

    static func ok(_ name: String, _ detail: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .ok, detail: detail)
    }

    static func warn(_ name: String, _ detail: String, action: String? = nil) -> DoctorCheck {
        DoctorCheck(name: name, status: .warn, detail: detail, action: action)
    }

    static func fail(_ name: String, _ detail: String, action: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .fail, detail: detail, action: action)
    }

    /// A check that could not run because something it needs failed first.
    static func notChecked(_ name: String, because reason: String) -> DoctorCheck {
        DoctorCheck(name: name, status: .warn, detail: "not checked: \(reason)")
    }
}

/// Every check of one `stablegate doctor` run, in a fixed order.
public struct DoctorReport: Sendable, Equatable {
    public let checks: [DoctorCheck]

    public init(checks: [DoctorCheck]) {
        self.checks = checks
    }

    public var failures: Int { checks.filter { $0.status == .fail }.count }
    public var warnings: Int { checks.filter { $0.status == .warn }.count }

    /// 1 when any check failed, else 0 (warnings do not fail the run).
    public var exitCode: Int32 { failures > 0 ? 1 : 0 }

    /// One line per check — status, name, what was found — then, indented, what to do; a
    /// summary line last.
    public var text: String {
        let width = min(checks.map(\.name.count).max() ?? 0, 36)
        var lines: [String] = []
        for check in checks {
            let status = check.status.label.padding(toLength: 5, withPad: " ", startingAt: 0)
            let name = check.name.count < width ? check.name.padding(toLength: width, withPad: " ", startingAt: 0) : check.name
            lines.append("\(status) \(name)  \(check.detail)")
            if let action = check.action { lines.append(String(repeating: " ", count: 6) + "→ " + action) }
        }
        let verdict = failures > 0 ? "not healthy" : "healthy"
        lines.append("\(verdict): \(checks.count) checks, \(failures) failed, \(warnings) warnings")
        return lines.joined(separator: "\n")
    }

    /// `{"status": "ok"|"warn"|"fail", "failures": n, "warnings": n, "checks": [{"name",
    /// "status", "detail", "action"}]}`; the overall status is the worst check's.
    public var json: JSONValue {
        let overall: DoctorStatus = failures > 0 ? .fail : warnings > 0 ? .warn : .ok
        return .object([
            ("status", .string(overall.rawValue)), ("failures", .int(failures)), ("warnings", .int(warnings)),
            (
                "checks",
                .array(
                    checks.map { check in
                        .object([
                            ("name", .string(check.name)), ("status", .string(check.status.rawValue)), ("detail", .string(check.detail)),
                            ("action", .stringOrNull(check.action)),
                        ])
                    })
            ),
        ])
    }
}
