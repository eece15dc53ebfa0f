import Foundation

/// A client for the AllScale Open API v1 — StableGate or any compatible endpoint.
///
/// ```swift
/// let client = AllScaleClient(baseURL: "https://pay.example.com", apiKey: key, apiSecret: secret)
/// let created = try await client.createCheckoutIntent(
///     CreateCheckoutIntent(pricing: .fiat(.usd), amountCents: 1250, orderId: "A-1001"), idempotencyKey: "A-1001")
/// // redirect the customer to created.checkoutURL; later:
/// let intent = try await client.checkoutIntent(id: created.id)
/// ```
///
/// Every request is signed afresh (new timestamp and nonce), including retries. GETs and
/// requests that never reached the server are retried with back-off; a create is retried
/// only when it carries an idempotency key, so a retry can never create a second intent.
/// With ``verifyResponseSignatures`` every answer must be signed by the server (docs/WIRE-CONTRACT.md §8).
public struct AllScaleClient: Sendable {
    public let baseURL: String
    public let apiKey: String
    private let apiSecret: String
    public var transport: any AllScaleTransport
    public var clock: any AllScaleClock
    public var retry: RetryPolicy
    /// Per request.
    public var timeout: Duration = .seconds(30)
    /// Require every answer to be signed by the server (docs/WIRE-CONTRACT.md §8; the store's
    /// `signed_response` setting, off by default). When on, a response without
    /// `X-Response-Timestamp`, `X-Response-Nonce`, `X-Response-Signature` and `X-Request-Nonce`
    /// (equal to the nonce sent), or whose signature does not verify with the API secret, throws
    /// ``AllScaleError/unsignedResponse(httpStatus:reason:)`` or
    /// ``AllScaleError/badResponseSignature(httpStatus:reason:)`` instead of returning data —
    /// error envelopes included. Turn it on only for a store that signs its responses.
    public var verifyResponseSignatures: Bool

    /// How often to try and how long to wait between tries.
    public struct RetryPolicy: Sendable {
        public var maxAttempts: Int
        public var initialDelay: Duration
        public var maximumDelay: Duration

        public init(maxAttempts: Int = 3, initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(8)) {
            self.maxAttempts = maxAttempts
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }

        /// Never retry.
        public static let none = RetryPolicy(maxAttempts: 1)

        func delay(afterAttempt attempt: Int) -> Duration {
            var delay = initialDelay
            for _ in 1..<max(attempt, 1) { delay *= 2 }
            return min(delay, maximumDelay)
        }
    }

    public init(
        baseURL: String, apiKey: String, apiSecret: String, transport: any AllScaleTransport = AsyncHTTPClientTransport(),
        clock: any AllScaleClock = SystemAllScaleClock(), retry: RetryPolicy = RetryPolicy(), verifyResponseSignatures: Bool = false
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.verifyResponseSignatures = verifyResponseSignatures
    }

    // MARK: The API

    /// `GET /v1/test/ping`: checks the base URL, the key and the signature.
    public func ping() async throws {
        _ = try await call("GET", "/v1/test/ping", as: JSONValue.self, retryable: true)
    }

    /// `POST /v1/checkout_intents`. With an `idempotencyKey` (your order id is a good one) a
    /// repeat within 24 h returns the first intent instead of creating another, and network
    /// failures are retried; without one nothing is retried.
    public func createCheckoutIntent(_ request: CreateCheckoutIntent, idempotencyKey: String? = nil) async throws -> CreatedCheckoutIntent {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        return try await call(
            "POST", "/v1/checkout_intents", body: Array(request.body().serialized.utf8), headers: headers, as: CreatedCheckoutIntent.self,
            retryable: idempotencyKey != nil)
    }

    /// `GET /v1/checkout_intents/{id}/status`.
    public func status(id: String) async throws -> CheckoutStatus {
        try await call("GET", "/v1/checkout_intents/\(Self.pathSegment(id))/status", as: CheckoutStatus.self, retryable: true)
    }

    /// `GET /v1/checkout_intents/{id}`: the full object.
    public func checkoutIntent(id: String) async throws -> CheckoutIntent {
        try await call("GET", "/v1/checkout_intents/\(Self.pathSegment(id))", as: CheckoutIntent.self, retryable: true)
    }

    /// Polls the status — every second at first, backing off to every 10 s — until it is
    /// terminal, then returns the full intent. Throws ``AllScaleError/timedOut(last:)`` after `timeout`.
    public func waitForTerminalStatus(
        id: String, timeout: Duration, onChange: @Sendable (CheckoutStatus) -> Void = { _ in }
    ) async throws -> CheckoutIntent {
        let deadline = clock.now.addingTimeInterval(Self.seconds(timeout))
        var interval = Duration.seconds(1)
        var last: CheckoutStatus?
        while true {
            let status = try await status(id: id)
            if status != last { onChange(status) }
            last = status
            if status.isTerminal { return try await checkoutIntent(id: id) }
            let remaining = deadline.timeIntervalSince(clock.now)
            guard remaining > 0 else { throw AllScaleError.timedOut(last: last) }
            try await clock.sleep(for: min(interval, .milliseconds(Int64(remaining * 1000))))
            interval = min(interval * 3 / 2, .seconds(10))
        }
    }

    // MARK: Requests

    /// Sends one signed request (re-signed for every attempt) and returns the envelope's payload as `P`.
    func call<P: Decodable & Sendable>(
        _ method: String, _ path: String, query: String = "", body: [UInt8] = [], headers extra: [(String, String)] = [], as _: P.Type,
        retryable: Bool
    ) async throws -> P {
        var attempt = 0
        while true {
            attempt += 1
            let nonce = UUID().uuidString.lowercased()
            let signed = RequestSigner.headers(
                method: method, path: path, query: query, body: body, apiKey: apiKey, secret: apiSecret, timestamp: clock.now, nonce: nonce)
            let request = TransportRequest(
                method: method, url: baseURL + path + (query.isEmpty ? "" : "?" + query),
                headers: signed.map { ($0.name, $0.value) } + extra.map { ($0.0, $0.1) } + [
                    ("Accept", "application/json"), ("User-Agent", "AllScaleKit/1"),
                ], body: body)
            let outcome: Result<P, AllScaleError>
            do {
                let response = try await transport.send(request, timeout: timeout)
                if verifyResponseSignatures {
                    // Before a byte of the body is read (docs/WIRE-CONTRACT.md §8): the path and
                    // body this attempt signed, and its nonce.
                    try ResponseSigner.verify(response, requestPath: path, requestNonce: nonce, requestBody: body, secret: apiSecret)
                }
                outcome = Self.payload(of: response, as: P.self)
            } catch let error as AllScaleError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(.transport("\(error)"))
            }
            switch outcome {
            case .success(let payload): return payload
            case .failure(let error):
                guard retryable, attempt < retry.maxAttempts, let wait = retryDelay(for: error, attempt: attempt) else { throw error }
                try await clock.sleep(for: wait)
            }
        }
    }

    /// Whether an error is worth another try, and after how long: no answer, a server error, or
    /// a rate limit (after its `Retry-After`, when that fits the policy).
    private func retryDelay(for error: AllScaleError, attempt: Int) -> Duration? {
        switch error {
        case .transport: return retry.delay(afterAttempt: attempt)
        case .api(let code, _, _, let status, let retryAfter):
            if code == 40001 {
                let wait = Duration.seconds(retryAfter ?? 1)
                return wait <= retry.maximumDelay ? wait : nil
            }
            return code == 90000 || status >= 500 ? retry.delay(afterAttempt: attempt) : nil
        case .unexpectedResponse(let status, _), .unsignedResponse(let status, _): return status >= 500 ? retry.delay(afterAttempt: attempt) : nil
        case .timedOut, .badResponseSignature: return nil
        }
    }

    /// The payload of a success envelope decoded straight from the body as `P` (one decode in the
    /// usual case), or the error an error envelope, or anything else, stands for.
    static func payload<P: Decodable>(of response: TransportResponse, as _: P.Type) -> Result<P, AllScaleError> {
        let body = Data(response.body), decoder = JSONDecoder()
        if let envelope = try? decoder.decode(Envelope<P>.self, from: body) {
            guard envelope.code == 0 else { return .failure(envelope.failure(response)) }
            if let payload = envelope.payload { return .success(payload) }
        }
        // Not an envelope of a `P`: say whether it is an envelope at all.
        let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self)
        guard let head = try? decoder.decode(Envelope<Skipped>.self, from: body) else {
            return .failure(.unexpectedResponse(httpStatus: response.status, excerpt: excerpt))
        }
        guard head.code == 0 else { return .failure(head.failure(response)) }
        return .failure(.unexpectedResponse(httpStatus: response.status, excerpt: "payload is not a \(P.self): \(excerpt)"))
    }

    private struct Envelope<Payload: Decodable>: Decodable {
        struct ErrorBody: Decodable { let message: String? }
        let code: Int
        let payload: Payload?
        let error: ErrorBody?
        let requestId: String?
        enum CodingKeys: String, CodingKey { case code, payload, error, requestId = "request_id" }

        func failure(_ response: TransportResponse) -> AllScaleError {
            .api(
                code: code, message: error?.message ?? "(no message)", requestId: requestId ?? response.header("X-Request-Id"),
                httpStatus: response.status, retryAfterSeconds: response.header("Retry-After").flatMap(Int.init))
        }
    }

    /// A payload whose content does not matter.
    private struct Skipped: Decodable {
        init(from decoder: any Decoder) {}
    }

    /// Ids are hex, but never let one smuggle a path separator or query into the URL.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}
