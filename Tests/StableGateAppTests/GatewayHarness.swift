import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StableGateApp
import StableGateDomain
import StableGateStore
import StableGateTestSupport
import Testing

/// A gateway built by the same `buildApplication` as `serve`, on a fresh test database, with
/// one onboarded merchant.
struct GatewayHarness: Sendable {
    let gateway: Gateway
    let configuration: GatewayConfiguration
    let merchant: MerchantOnboarding.Credentials
    let clock: any WallClock

    var environment: GatewayEnvironment { gateway.environment }

    /// The path of intent `id`'s hosted checkout page (`/checkout/{token}`), as its
    /// `checkout_url` gives it to the merchant.
    func checkoutPath(_ id: String) async throws -> String {
        let intent = try #require(try await environment.intents.find(id: id), "no intent \(id)")
        let url = environment.links.url(for: intent)
        #expect(url.hasPrefix(configuration.resolvedPublicURL + "/checkout/"))
        return String(url.dropFirst(configuration.resolvedPublicURL.count))
    }

    /// Builds a gateway on `backend` and runs `body` with it and a client of its router.
    static func withClient(_ backend: Backend, _ body: @Sendable (GatewayHarness, any TestClientProtocol) async throws -> Void) async throws {
        try await with(backend) { harness in
            try await harness.test { client in try await body(harness, client) }
        }
    }

    /// Builds a production-mode gateway on SQLite whose rates come from a fixed provider (its
    /// HTTP rate source is never asked), runs `body` against it, tears everything down.
    static func withProduction(clock: any WallClock = SystemClock(), _ body: (GatewayHarness) async throws -> Void) async throws {
        try await with(
            .sqlite,
            configure: {
                $0.mode = .production
                $0.rateSource = .http(url: "https://rates.invalid/latest")
            }, clock: clock, rateProvider: FixedRates([.usd: "1"]), body)
    }

    /// Builds a gateway on `backend`, runs `body` against it, tears everything down.
    static func with(
        _ backend: Backend,
        configure: (inout GatewayConfiguration) -> Void = { _ in },
        clock: any WallClock = SystemClock(),
        rateProvider: (any RateProvider)? = nil,
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.with(backend) { database in
            var configuration = GatewayConfiguration()
            configuration.databaseURL = database.url
            configuration.dataDirectory = database.directory
            configuration.masterKey = SecretBox.generateMasterKey()
            configuration.apiKeyCacheTTL = 0
            configuration.port = 0
            configuration.publicURL = "https://pay.example.test"
            configure(&configuration)
            let gateway = try await buildApplication(
                configuration,
                dependencies: GatewayDependencies(clock: clock, rateProvider: rateProvider, logger: testLogger, runsNotificationServices: false))
            do {
                let merchant = try await MerchantOnboarding(environment: gateway.environment).createMerchant(
                    name: "Test Shop", wallet: "0x52908400098527886E0F7030069857D2E4169EE7")
                try await body(GatewayHarness(gateway: gateway, configuration: configuration, merchant: merchant, clock: clock))
                await gateway.environment.close()
            } catch {
                await gateway.environment.close()
                throw error
            }
        }
    }

    /// Runs requests against the application in-process (no sockets).
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await gateway.application.test(.router, body)
    }

    /// Runs requests in-process and returns what `body` returns.
    func value<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await gateway.application.test(.router, body)
    }

    /// Runs requests against the application on a real loopback socket.
    func testLive(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await gateway.application.test(.live, body)
    }

    /// Another merchant's credentials on the same gateway.
    func otherMerchant() async throws -> MerchantOnboarding.Credentials {
        try await MerchantOnboarding(environment: environment).createMerchant(name: "Other Shop", wallet: nil)
    }

    /// How many intents exist.
    func intentCount() async throws -> Int {
        try await environment.intents.count()
    }
}

/// What a signed request is made of, so tests can break one part at a time.
struct SignedRequest {
    var method: HTTPRequest.Method = .get
    var path: String
    var query: String = ""
    var body: String = ""
    var apiKey: String
    var secret: String
    var timestamp: String
    var nonce: String = UUID().uuidString
    var extraHeaders: [HTTPField.Name: String] = [:]
    /// When set, the path and query signed differ from the ones sent.
    var signedPath: String?

    init(
        _ method: HTTPRequest.Method, _ path: String, query: String = "", body: String = "", as credentials: MerchantOnboarding.Credentials,
        at clock: any WallClock
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.apiKey = credentials.apiKey
        self.secret = credentials.apiSecret
        self.timestamp = String(Int64(clock.now.timeIntervalSince1970))
    }

    var headers: HTTPFields {
        let canonical = RequestSigning.canonicalString(
            method: method.rawValue, path: signedPath ?? path, query: query, timestamp: timestamp, nonce: nonce,
            bodySHA256Hex: RequestSigning.bodyHash(Array(body.utf8)))
        var fields = HTTPFields()
        fields[.apiKey] = apiKey
        fields[.timestamp] = timestamp
        fields[.nonce] = nonce
        fields[.signature] = RequestSigning.signature(canonical: canonical, secret: secret)
        if !body.isEmpty { fields[.contentType] = "application/json" }
        for (name, value) in extraHeaders { fields[name] = value }
        return fields
    }

    var uri: String { query.isEmpty ? path : path + "?" + query }
}

extension TestClientProtocol {
    /// Reports a browser wallet's transaction from the checkout page at `path`, as its script
    /// does (double-submit CSRF cookie and header).
    func reportWalletTransaction(path: String, hash: String, from: String) async throws -> EnvelopeReply {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cookie] = "sg_csrf=token123"
        headers[HTTPField.Name("X-CSRF-Token")!] = "token123"
        return try await send(uri: "\(path)/wallet-tx", method: .post, headers: headers, body: #"{"tx_hash": "\#(hash)", "from": "\#(from)"}"#)
    }

    /// Submits the cancel form of the checkout page at `path` as the page does (form-encoded,
    /// double-submit CSRF cookie and field).
    func cancelCheckout(path: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = "sg_csrf=token123"
        return try await execute(uri: "\(path)/cancel", method: .post, headers: headers, body: ByteBuffer(string: "csrf=token123"))
    }

    /// Sends a signed request and parses the envelope.
    func send(_ request: SignedRequest) async throws -> EnvelopeReply {
        try await send(uri: request.uri, method: request.method, headers: request.headers, body: request.body)
    }

    /// Sends any request and parses the envelope.
    func send(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: String = "") async throws -> EnvelopeReply {
        let response = try await execute(uri: uri, method: method, headers: headers, body: body.isEmpty ? nil : ByteBuffer(string: body))
        return try EnvelopeReply(response)
    }
}

/// A parsed AllScale envelope, checked for the four keys every response must carry.
struct EnvelopeReply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let json: JSONValue
    let text: String

    init(_ response: TestResponse) throws {
        status = response.status
        headers = response.headers
        text = String(buffer: response.body)
        json = try JSONParser.parse(Array(text.utf8))
        guard case .object(let members) = json else { throw TestSetupError("response is not a JSON object: \(text)") }
        let keys = members.map(\.0)
        guard keys == ["code", "payload", "error", "request_id"] else { throw TestSetupError("envelope keys are \(keys): \(text)") }
        guard case .string(let id)? = json["request_id"], !id.isEmpty, response.headers[.requestId] == id else {
            throw TestSetupError("request_id missing or different from X-Request-Id: \(text)")
        }
    }

    var code: Int? { if case .number(let n)? = json["code"] { Int(n) } else { nil } }
    var payload: JSONValue? { json["payload"] }
    var errorMessage: String? { if case .string(let m)? = json["error"]?["message"] { m } else { nil } }
    var errorField: String? { if case .string(let f)? = json["error"]?["field"] { f } else { nil } }
    var isSuccess: Bool { code == 0 && json["error"] == .null }

    func string(_ key: String) -> String? { if case .string(let s)? = payload?[key] { s } else { nil } }
}
