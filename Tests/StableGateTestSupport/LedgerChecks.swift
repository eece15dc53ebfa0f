import StableGateDomain
import StableGateStore
import Testing

/// Expects the ledger's entries to break none of ``LedgerBook``'s invariants (balanced
/// postings, no overdrawn shopper), naming the violations when they do.
public func expectLedgerSound(_ ledger: LedgerRepository, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let entries = try await ledger.entries()
    #expect(LedgerBook.violations(entries).isEmpty, "\(LedgerBook.violations(entries))", sourceLocation: sourceLocation)
}
