import Hummingbird
import Logging
import Prometheus
import StableGateDomain
import StableGatePayments
import StableGateStore

/// Liveness and readiness, for load balancers and monitors. Not signed.
///
/// `/readyz` answers 503 with the reasons when the database does not answer, when a chain this
/// instance watches is behind (``ChainHealthBoard/problems(now:maximumBlocks:maximumSeconds:)``)
/// or when the hot wallet cannot pay for the next forwarding.
struct HealthRoutes {
    let database: any DatabaseClient
    let board: ChainHealthBoard
    let clock: any WallClock
    let maximumLagBlocks: Int64
    let maximumLagSeconds: Double

    /// The process answers, with the version and commit it runs (to check what a rollout reached).
    @Sendable func live(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        Envelope.response(
            status: .ok,
            json: .object([("status", .string("ok")), ("version", .string(BuildInfo.version)), ("commit", .string(BuildInfo.commit))]),
            requestId: context.requestId)
    }

    /// The database answers and every watched chain is within its lag limits.
    @Sendable func ready(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        var problems: [String] = []
        do {
            try await database.ping()
        } catch {
            context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            problems.append("database unavailable")
        }
        problems += board.problems(now: clock.now, maximumBlocks: maximumLagBlocks, maximumSeconds: maximumLagSeconds)
        guard problems.isEmpty else {
            return Envelope.response(
                status: .serviceUnavailable,
                json: .object([("status", .string(problems.joined(separator: "; "))), ("problems", .array(problems.map(JSONValue.string)))]),
                requestId: context.requestId)
        }
        return Envelope.response(status: .ok, json: .object([("status", .string("ready"))]), requestId: context.requestId)
    }
}

/// `GET /metrics` for Prometheus. It names every route and its traffic, so it is registered
/// only where the operator chose: behind `metrics.token` on the public port, or on the
/// separate `metrics.listen` address (with the token too, when one is set).
struct MetricsRoute {
    let registry: PrometheusCollectorRegistry
    /// SHA-256 of the bearer token, when one is required: comparing digests keeps the
    /// comparison's time independent of the token's length as well as its bytes.
    private let tokenDigest: String?

    init(registry: PrometheusCollectorRegistry, token: String?) {
        self.registry = registry
        tokenDigest = token.map(SessionManager.digest)
    }

    /// The registry in Prometheus's text format, to a caller with the token.
    @Sendable func metrics(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        if let problem = refusal(request.headers[.authorization]) {
            context.logger.info(
                "request rejected", metadata: ["code": "\(problem.code.rawValue)", "reason": "\(problem.message)", "path": "/metrics"])
            var response = Envelope.failure(problem, requestId: context.requestId)
            response.headers[.wwwAuthenticate] = #"Bearer realm="metrics""#
            return response
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: buffer)))
    }

    /// Why a request with this `Authorization` header may not read the metrics; nil when it may.
    func refusal(_ authorization: String?) -> APIError? {
        guard let tokenDigest else { return nil }
        guard let authorization, !authorization.isEmpty else {
            return APIError(.missingAuthentication, "Authorization: Bearer <metrics.token> is required")
        }
        // RFC 9110: the scheme is case-insensitive, followed by one or more spaces.
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            ConstantTime.equals(SessionManager.digest(String(parts[1].drop(while: { $0 == " " }))), tokenDigest)
        else {
            return APIError(.invalidSignature, "the bearer token is not the metrics token")
        }
        return nil
    }
}
