import Synchronization

/// One authenticated request's ``RequestClaim``, recorded exactly once: by the route's own
/// write when that write can carry it, otherwise by the ledger on its own.
///
/// A create records its claim in the transaction that inserts the intent
/// (``CheckoutIntentRepository/create(_:transition:idempotency:claim:)``): the request is
/// counted and its intent stored in one commit, or neither — one transaction on the database's
/// writer instead of two. Every other route's claim is recorded before its handler runs.
public final class PendingClaim: Sendable {
    private enum State {
        case open
        /// A write has taken it and has not finished.
        case recording
        case decided(ClaimVerdict)
    }

    /// What is to be recorded.
    public let claim: RequestClaim
    private let state = Mutex(State.open)

    public init(_ claim: RequestClaim) {
        self.claim = claim
    }

    /// The verdict, once a committed write has recorded the claim.
    public var verdict: ClaimVerdict? {
        state.withLock { state in
            if case .decided(let verdict) = state { return verdict }
            return nil
        }
    }

    /// Takes the claim for a write that will record it; nil when it is already taken or decided.
    /// The write must then call ``decide(_:)`` after its commit, or ``release()`` when it
    /// rolled back.
    public func take() -> RequestClaim? {
        state.withLock { state in
            guard case .open = state else { return nil }
            state = .recording
            return claim
        }
    }

    /// Records the verdict of the committed write that took the claim.
    public func decide(_ verdict: ClaimVerdict) {
        state.withLock { $0 = .decided(verdict) }
    }

    /// Gives the claim back: the write that took it rolled back, so nothing was recorded.
    public func release() {
        state.withLock { state in
            if case .recording = state { state = .open }
        }
    }
}

extension RequestLedger {
    /// The claim's verdict: recorded now, in a transaction of its own, unless a route's write
    /// already recorded it.
    public func settle(_ pending: PendingClaim) async throws -> ClaimVerdict {
        if let verdict = pending.verdict { return verdict }
        guard let claim = pending.take() else {
            throw StoreDataError("request claim for nonce \(pending.claim.nonce) is still being recorded by another write")
        }
        do {
            let verdict = try await self.claim(claim)
            pending.decide(verdict)
            return verdict
        } catch {
            pending.release()
            throw error
        }
    }
}
