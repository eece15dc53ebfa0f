import StableGateDomain

extension CheckoutStatus {
    /// Statuses as a SQL list (`1, 2, 3`), written from the enum so that no status is a bare
    /// number in SQL. Spliced in as text, not bound: the partial indexes on `status` (migration
    /// 2) are only used when the query names the same literals.
    static func sqlList(_ statuses: CheckoutStatus...) -> String {
        statuses.map { String($0.rawValue) }.joined(separator: ", ")
    }
}
