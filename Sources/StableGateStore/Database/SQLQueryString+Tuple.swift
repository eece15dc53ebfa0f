import SQLKit

extension SQLQueryString {
    /// Appends `(?, ?, …)` binding each value, for multi-row INSERTs.
    mutating func appendTuple(_ values: [any Encodable & Sendable]) {
        appendLiteral("(")
        for (index, value) in values.enumerated() {
            if index > 0 { appendLiteral(", ") }
            appendInterpolation(bind: value)
        }
        appendLiteral(")")
    }
}
