import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport

/// A browser stand-in for dashboard handler tests: keeps cookies between requests, posts
/// url-encoded and multipart forms, and reads the CSRF token out of the last page.
final class DashboardTestClient {
    let client: any TestClientProtocol
    private(set) var cookies: [String: String] = [:]
    /// Every `Set-Cookie` header value seen, newest last.
    private(set) var setCookieHeaders: [String] = []
    /// Headers every request carries, as a reverse proxy would add them (`X-Forwarded-For`).
    var forwardedHeaders = HTTPFields()

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// A GET with the cookies; returns the status, headers and body text.
    @discardableResult
    func get(_ uri: String) async throws -> Page {
        try await send(uri, method: .get, headers: [:], body: nil)
    }

    /// A url-encoded form POST with the cookies.
    @discardableResult
    func post(_ uri: String, _ fields: [(String, String)]) async throws -> Page {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(uri, method: .post, headers: headers, body: ByteBuffer(string: Self.formEncode(fields)))
    }

    /// A multipart/form-data POST (a file upload) with the cookies.
    @discardableResult
    func postMultipart(
        _ uri: String, fields: [(String, String)], file: (name: String, filename: String, type: String, bytes: [UInt8])
    ) async throws -> Page {
        let boundary = "----stablegate-test-\(UUID().uuidString)"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n"
                .utf8)
        body += file.bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return try await send(uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// Logs in through the real form: loads the page (for its pre-session cookie and token),
    /// then posts the credentials.
    @discardableResult
    func logIn(email: String, password: String, next: String? = nil) async throws -> Page {
        let form = try await get("/dashboard/login")
        var fields = [("csrf", try form.csrf()), ("email", email), ("password", password)]
        if let next { fields.append(("next", next)) }
        return try await post("/dashboard/login", fields)
    }

    /// The session's CSRF token, read from a dashboard page.
    func sessionCSRF() async throws -> String {
        try await get("/dashboard/settings").csrf()
    }

    private func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Page {
        var headers = headers
        headers.append(contentsOf: forwardedHeaders)
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for header in response.headers[values: .setCookie] {
            setCookieHeaders.append(header)
            let pair = header.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0]).trimmingCharacters(in: .whitespaces)
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.lowercased().contains("max-age=0") { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        return Page(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
    }

    static func formEncode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }

    /// A response as a test reads it.
    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: [UInt8]

        var html: String { String(decoding: body, as: UTF8.self) }
        var location: String? { headers[.location] }

        /// The value of the first hidden `csrf` input.
        func csrf() throws -> String {
            try value(after: #"name="csrf" value=""#)
        }

        /// The text between `marker` and the next double quote.
        func value(after marker: String) throws -> String {
            guard let start = html.range(of: marker) else { throw TestSetupError("no \(marker) in the page: \(html.prefix(400))") }
            return String(html[start.upperBound...].prefix { $0 != "\"" })
        }
    }
}

/// Dashboard fixtures shared by the dashboard suites.
enum DashboardFixtures {
    static let password = "correct horse battery"

    /// Creates a dashboard user of `merchantId` with `password`, as if they had followed their
    /// setup link.
    @discardableResult
    static func user(_ harness: GatewayHarness, merchantId: String, email: String, password: String = password) async throws -> DashboardUser {
        let link = try await DashboardUserOnboarding(environment: harness.environment).invite(merchantId: merchantId, email: email, reset: false)
        let accounts = DashboardUserRepository(database: harness.environment.database)
        try await accounts.setPassword(userId: link.userId, hash: try await PasswordHasher(cost: 4).hash(password))
        return try requireUser(try await accounts.user(id: link.userId))
    }

    /// A PNG header (signature and IHDR) of the given size, followed by filler: enough for the
    /// upload check, which reads the size from the header.
    static func png(width: Int, height: Int, padding: Int = 64) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        for value in [width, height] {
            bytes += [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        bytes += [8, 6, 0, 0, 0, 0, 0, 0, 0]
        return bytes + [UInt8](repeating: 0, count: padding)
    }
}

private func requireUser(_ user: DashboardUser?) throws -> DashboardUser {
    guard let user else { throw TestSetupError("the user was not created") }
    return user
}
