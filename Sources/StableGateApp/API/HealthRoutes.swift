import Hummingbird
import Prometheus
import StableGateDomain
import StableGateStore

/// Liveness, readiness and metrics, for load balancers and Prometheus. Not signed.
struct HealthRoutes {
    let database: any DatabaseClient
    let metrics: PrometheusCollectorRegistry

    func register(on router: Router<GatewayRequestContext>) {
        router.get("healthz") { _, context in
            Envelope.response(status: .ok, json: .object([("status", .string("ok"))]), requestId: context.requestId)
        }
        router.get("readyz") { _, context in
            do {
                _ = try await database.read { db in try await db.raw("SELECT 1 AS ok").first() }
                return Envelope.response(status: .ok, json: .object([("status", .string("ready"))]), requestId: context.requestId)
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                return Envelope.response(
                    status: .serviceUnavailable, json: .object([("status", .string("database unavailable"))]), requestId: context.requestId)
            }
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: buffer)))
        }
    }
}
