import Hummingbird
import StableGateDomain

/// CSRF protection for forms shown before there is a session (the checkout page, the login
/// and sign-up forms): a random value in a SameSite=Strict, HttpOnly cookie, echoed by the
/// form. A cross-site post arrives without the cookie (or without knowing its value) and fails.
struct DoubleSubmitToken: Sendable {
    let cookieName: String
    /// The cookie's path: the pages whose forms carry the token.
    let path: String
    /// `Secure` when the gateway is served over https.
    let secure: Bool

    /// The request's token, or a new random one when it has none.
    func value(for request: Request, identifiers: any IdentifierGenerator) -> String {
        if let value = request.cookies[cookieName]?.value, !value.isEmpty { return value }
        return identifiers.randomBytes(16).hexString
    }

    /// The cookie that carries `value`.
    func cookie(_ value: String) -> Cookie {
        Cookie(name: cookieName, value: value, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Whether `submitted` equals the request's cookie (in constant time).
    func matches(_ request: Request, _ submitted: String?) -> Bool {
        guard let cookie = request.cookies[cookieName]?.value, !cookie.isEmpty, let submitted else { return false }
        return ConstantTime.equals(cookie, submitted)
    }
}
