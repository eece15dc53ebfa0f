import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import StableGateDomain
import StableGateStore

/// Login sessions for one realm (`dashboard`, or `account` for shoppers): a random token in a
/// Secure (over https), HttpOnly, SameSite=Strict cookie; only its SHA-256 is stored, with a
/// per-session CSRF token that every form must echo. Sessions expire after `idleTimeout`
/// without use and never live longer than `maximumLifetime`.
struct SessionManager: Sendable {
    let realm: String
    let cookieName: String
    let cookiePath: String
    let store: SessionRepository
    let identifiers: any IdentifierGenerator
    let clock: any WallClock
    let secureCookies: Bool
    var idleTimeout: TimeInterval = 8 * 3600
    var maximumLifetime: TimeInterval = 7 * 86_400

    /// Starts a session and returns the cookie to set.
    func start(userId: String) async throws -> (session: SessionRecord, cookie: Cookie) {
        let token = identifiers.randomBytes(32).hexString
        let now = clock.now
        let session = SessionRecord(
            id: Self.digest(token), userId: userId, realm: realm, csrfToken: identifiers.randomBytes(16).hexString, createdAt: now,
            lastSeenAt: now, expiresAt: now.addingTimeInterval(idleTimeout))
        try await store.createSession(session)
        return (session, cookie(token))
    }

    /// The live session of the request, sliding its idle expiry (written at most once a minute).
    func resolve(_ request: Request) async throws -> SessionRecord? {
        guard let token = request.cookies[cookieName]?.value, token.utf8.count == 64 else { return nil }
        let now = clock.now
        guard let session = try await store.session(id: Self.digest(token), realm: realm, now: now),
            now.timeIntervalSince(session.createdAt) < maximumLifetime
        else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) > 60 {
            let expiry = min(now.addingTimeInterval(idleTimeout), session.createdAt.addingTimeInterval(maximumLifetime))
            try await store.touch(sessionId: session.id, now: now, expiresAt: expiry)
        }
        return session
    }

    /// Starts a session and answers `303 See Other` to `location` with its cookie.
    func startRedirecting(userId: String, to location: String) async throws -> Response {
        let (_, cookie) = try await start(userId: userId)
        var response = PageTemplates.seeOther(location)
        response.setCookie(cookie)
        return response
    }

    /// Ends this session; the returned cookie clears the browser's copy.
    func end(_ session: SessionRecord) async throws -> Cookie {
        try await store.deleteSession(id: session.id)
        return clearingCookie
    }

    /// Ends every session of the user (log out everywhere).
    func endAll(userId: String) async throws -> Cookie {
        try await store.deleteSessions(userId: userId, realm: realm)
        return clearingCookie
    }

    /// Constant-time check of a submitted CSRF token.
    static func csrfMatches(_ session: SessionRecord, _ submitted: String?) -> Bool {
        guard let submitted else { return false }
        return ConstantTime.equals(session.csrfToken, submitted)
    }

    private func cookie(_ token: String) -> Cookie {
        Cookie(
            name: cookieName, value: token, maxAge: Int(maximumLifetime), path: cookiePath, secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    private var clearingCookie: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: cookiePath, secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// SHA-256 hex: what is stored instead of the token.
    static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).hexString
    }
}

/// Throttles password guessing: after `maximumFailures` failed logins for one e-mail address
/// within `window`, or `maximumFailuresPerAddress` from one client address (an IPv6 client by
/// its /64, see ``ClientRateLimiter/bucket(for:)``), logins for it are refused until the
/// window has passed — without checking the password, so guessing stops.
struct LoginThrottle: Sendable {
    let attempts: LoginAttemptRepository
    let clock: any WallClock
    var window: TimeInterval = 15 * 60
    var maximumFailures = 5
    var maximumFailuresPerAddress = 20
    /// Separates the realms' counters (`""` for the dashboard, `account:` for shoppers).
    var keyPrefix = ""

    /// The counters one attempt for `email` from `client` is checked against.
    func limits(email: String, client: String) -> [LoginAttemptRepository.LoginLimit] {
        [
            LoginAttemptRepository.LoginLimit(key: keyPrefix + "email:" + email.lowercased(), maximumFailures: maximumFailures),
            LoginAttemptRepository.LoginLimit(
                key: keyPrefix + "ip:" + ClientRateLimiter.bucket(for: client), maximumFailures: maximumFailuresPerAddress),
        ]
    }

    /// What a login attempt came to.
    enum Verdict { case throttled, wrong, right }

    /// One login attempt: counted as a failure first, in the database, so attempts sent at once
    /// (or to several instances) cannot all be checked before any is counted; refused unchecked
    /// when the count is full. Otherwise the password is checked against `storedHash` (nil for
    /// an unknown or disabled login, checked against a dummy hash at the same cost so timing
    /// does not tell whether the login exists), and a right one no longer counts as a failure.
    func attempt(email: String, client: String, password: String, storedHash: String?, hasher: PasswordHasher) async throws -> Verdict {
        let now = clock.now
        guard let claim = try await attempts.claimLoginAttempt(limits(email: email, client: client), since: now.addingTimeInterval(-window), at: now)
        else { return .throttled }
        var valid = false
        if let storedHash {
            valid = try await hasher.verify(password, hash: storedHash)
        } else {
            await hasher.dummyVerify(password)
        }
        if valid { try await attempts.markLoginSucceeded(claim) }
        return valid ? .right : .wrong
    }
}
