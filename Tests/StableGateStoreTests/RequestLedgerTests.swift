import Foundation
import StableGateDomain
import StableGateTestSupport
import Testing

@testable import StableGateStore

@Suite("Replay protection and rate limits in the database")
struct RequestLedgerTests {
    func claim(_ nonce: String, key: String = "sgk_test", limit: Int = 600, at now: Date = Fixtures.now) -> RequestClaim {
        RequestClaim(apiKeyId: key, nonce: nonce, nonceExpiresAt: now.addingTimeInterval(301), limitPerMinute: limit, now: now)
    }

    /// Runs `body` with the request ledgers of two gateway instances (two clients) on one fresh
    /// database holding the key `sgk_test`, and the first instance's client.
    func withTwoInstances(_ backend: Backend, _ body: (RequestLedger, RequestLedger, any DatabaseClient) async throws -> Void) async throws {
        try await TestDatabase.with(backend) { test in
            let database = try await test.open()
            let other = try await test.open(migrate: false)
            try await Fixtures.onboard(database, keyId: "sgk_test")
            try await body(RequestLedger(database: database, logger: testLogger), RequestLedger(database: other, logger: testLogger), database)
            await database.shutdown()
            await other.shutdown()
        }
    }

    @Test("A nonce is accepted once per key, also inside one batch and across instances", arguments: Backend.available)
    func replay(backend: Backend) async throws {
        try await withTwoInstances(backend) { ledger, secondInstance, _ in
            #expect(try await ledger.claim(claim("n1")) == .accepted)
            #expect(try await ledger.claim(claim("n1")) == .replayedNonce)
            #expect(try await secondInstance.claim(claim("n1")) == .replayedNonce)
            #expect(try await secondInstance.claim(claim("n2")) == .accepted)
            // 50 concurrent claims of the same nonce: exactly one wins.
            let verdicts = try await withThrowingTaskGroup(of: ClaimVerdict.self) { group in
                for index in 0..<50 {
                    let target = index.isMultiple(of: 2) ? ledger : secondInstance
                    group.addTask { try await target.claim(claim("race")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(verdicts.filter { $0 == .accepted }.count == 1)
            #expect(verdicts.filter { $0 == .replayedNonce }.count == 49)
        }
    }

    @Test("The per-minute limit is shared by instances and says when to retry", arguments: Backend.available)
    func rateLimit(backend: Backend) async throws {
        try await withTwoInstances(backend) { first, second, database in
            let start = Date(timeIntervalSince1970: 1_767_225_600 + 15)  // 15 s into a minute
            let verdicts = try await withThrowingTaskGroup(of: ClaimVerdict.self) { group in
                for index in 0..<10 {
                    let target = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await target.claim(claim("n\(index)", limit: 6, at: start)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(verdicts.filter { $0 == .accepted }.count == 6)
            #expect(verdicts.filter { $0 == .rateLimited(retryAfterSeconds: 45) }.count == 4)
            // last_used_at is kept to the minute: the first request of the key's minute.
            let keys = APIKeyRepository(database: database)
            #expect(try await keys.find(id: "sgk_test")?.lastUsedAt == start)
            #expect(try await first.claim(claim("later", limit: 600, at: start.addingTimeInterval(20))) == .accepted)
            #expect(try await keys.find(id: "sgk_test")?.lastUsedAt == start)
            // A new minute brings a new budget, and moves last_used_at.
            #expect(try await first.claim(claim("next", limit: 6, at: start.addingTimeInterval(45))) == .accepted)
            #expect(try await keys.find(id: "sgk_test")?.lastUsedAt == start.addingTimeInterval(45))
            // Another key has its own budget.
            #expect(try await first.claim(claim("n0", key: "sgk_other", limit: 6, at: start)) == .accepted)
        }
    }

    @Test("Expired nonces, old windows and idempotency records are purged; live ones stay", arguments: Backend.available)
    func purge(backend: Backend) async throws {
        try await TestDatabase.withClient(backend) { database in
            try await Fixtures.onboard(database, keyId: "sgk_test")
            let ledger = RequestLedger(database: database, logger: testLogger)
            #expect(try await ledger.claim(claim("old", at: Fixtures.now)) == .accepted)
            let later = Fixtures.now.addingTimeInterval(400)
            #expect(try await ledger.claim(claim("new", at: later)) == .accepted)
            let removed = try await ledger.purgeExpired(now: later)
            #expect(removed == 2)  // the old nonce and the old minute's counter
            // A purged nonce is outside its replay window anyway; the live one still blocks.
            #expect(try await ledger.claim(claim("new", at: later)) == .replayedNonce)
        }
    }
}
