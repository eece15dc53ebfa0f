import Foundation
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// Login attempts in the store, on SQLite and PostgreSQL: an attempt is counted before its
/// password is checked, so no burst of attempts gets more checks than the limit allows.
@Suite("Login throttle: attempts are claimed before the password check")
struct LoginAttemptTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let window: TimeInterval = 15 * 60

    static func limits(email: String = "email:owner@shop.example", address: String = "ip:203.0.113.7") -> [LoginAttemptRepository.LoginLimit] {
        [.init(key: email, maximumFailures: 5), .init(key: address, maximumFailures: 20)]
    }

    static func claim(
        _ accounts: LoginAttemptRepository, _ limits: [LoginAttemptRepository.LoginLimit] = limits(), at date: Date = now
    ) async throws
        -> LoginAttemptRepository.LoginAttemptClaim?
    {
        try await accounts.claimLoginAttempt(limits, since: date.addingTimeInterval(-window), at: date)
    }

    @Test("60 claims at once for one e-mail, from two instances: exactly 5 are granted and counted", arguments: Backend.available)
    func concurrentClaims(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            // Two clients on one database stand for two gateway instances.
            let instances = [
                LoginAttemptRepository(database: try await test.open()), LoginAttemptRepository(database: try await test.open(migrate: false)),
            ]
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask { try await Self.claim(instances[index % 2]) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 5)
            let counted = try await instances[0].failedAttempts(key: "email:owner@shop.example", since: Self.now.addingTimeInterval(-Self.window))
            #expect(counted == 5)
            #expect(try await Self.claim(instances[1]) == nil, "the sixth, after the burst, is refused too")
        }
    }

    @Test("Concurrent claims for many e-mails from one address stop at the address's 20", arguments: Backend.available)
    func concurrentClaimsPerAddress(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let accounts = LoginAttemptRepository(database: try await test.open())
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<50 {
                    group.addTask { try await Self.claim(accounts, Self.limits(email: "email:user\(index)@shop.example")) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 20)
            #expect(
                try await Self.claim(accounts, Self.limits(email: "email:new@shop.example", address: "ip:198.51.100.1")) != nil,
                "another address is not affected")
        }
    }

    @Test("A right password stops counting as a failure, only for its own attempt, even when all share one millisecond", arguments: Backend.available)
    func rightPasswordIsNotAFailure(backend: Backend) async throws {
        try await TestDatabase.with(backend) { test in
            let accounts = LoginAttemptRepository(database: try await test.open())
            for _ in 0..<4 { #expect(try await Self.claim(accounts) != nil) }
            let right = try #require(try await Self.claim(accounts))
            try await accounts.markLoginSucceeded(right)
            let since = Self.now.addingTimeInterval(-Self.window)
            #expect(try await accounts.failedAttempts(key: "email:owner@shop.example", since: since) == 4)
            #expect(try await accounts.failedAttempts(key: "ip:203.0.113.7", since: since) == 4)
            #expect(try await Self.claim(accounts) != nil, "the fifth failure may still be tried")
            #expect(try await Self.claim(accounts) == nil)
            // Once the window has passed, the e-mail may be tried again.
            #expect(try await Self.claim(accounts, at: Self.now.addingTimeInterval(Self.window + 1)) != nil)
        }
    }
}
