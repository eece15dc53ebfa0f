import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StableGateDomain
import Synchronization

/// A merchant's webhook endpoint on a real loopback socket: records every request, checks its
/// signature as a merchant would (docs/WIRE-CONTRACT.md §7.2: the `allscale:webhook:v1` canonical
/// string over the path and query it was called on, the webhook id and the key's secret), and
/// answers as the test tells it to — a status, after a delay, or a redirect.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        let path: String
        let headers: HTTPFields
        let body: String
        let signatureValid: Bool
        let at: Date

        var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }
        var eventId: String? { if case .string(let id)? = json?["event_id"] { id } else { nil } }
        /// The StableGate event type; nil for an AllScale-format delivery (it has none).
        var type: String? { if case .string(let type)? = json?["type"] { type } else { nil } }
        /// The intent, in either format (flat AllScale body or the event's `data`).
        var intentId: String? {
            if case .string(let id)? = json?["data"]?["all_scale_checkout_intent_id"] ?? json?["all_scale_checkout_intent_id"] { id } else { nil }
        }
        var webhookId: String? { headers[HTTPField.Name("X-Webhook-Id")!] }
    }

    /// How to answer a request.
    struct Answer: Sendable {
        var status: HTTPResponse.Status = .ok
        var delay: Duration = .zero
        var location: String?
        var body = "ok"
    }

    private let state = Mutex<(received: [Received], answer: @Sendable (Int, Received) -> Answer)>(([], { _, _ in Answer() }))
    private let secrets: @Sendable (String) -> String?
    private let task: Task<Void, any Error>
    let port: Int

    /// The URL of `path` on this receiver.
    func url(_ path: String = "/hooks/stablegate") -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts a receiver; `secrets` gives the secret of an API key id.
    static func start(secrets: @escaping @Sendable (String) -> String?) async throws -> WebhookReceiver {
        let ready = AsyncStream<Int>.makeStream()
        let holder = Mutex<WebhookReceiver?>(nil)
        let router = Router()
        router.on("**", method: .post) { request, _ -> Response in
            guard let receiver = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await receiver.handle(request)
        }
        router.get("**") { _, _ -> Response in Response(status: .ok) }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "receiver"),
            onServerRunning: { channel in
                ready.continuation.yield(channel.localAddress?.port ?? 0)
                ready.continuation.finish()
            })
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in ready.stream { port = value }
        let receiver = WebhookReceiver(port: port, secrets: secrets, task: task)
        holder.withLock { $0 = receiver }
        return receiver
    }

    private init(port: Int, secrets: @escaping @Sendable (String) -> String?, task: Task<Void, any Error>) {
        self.port = port
        self.secrets = secrets
        self.task = task
    }

    /// Sets how requests are answered; the argument is the 1-based request number.
    func answer(_ rule: @escaping @Sendable (Int) -> Answer) {
        state.withLock { $0.answer = { number, _ in rule(number) } }
    }

    /// Sets how requests are answered by what they carry.
    func answerByContent(_ rule: @escaping @Sendable (Received) -> Answer) {
        state.withLock { $0.answer = { _, request in rule(request) } }
    }

    var received: [Received] { state.withLock { $0.received } }

    func stop() {
        task.cancel()
    }

    private func handle(_ request: Request) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1_048_576))
        let headers = request.headers
        var valid = false
        func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
        if let key = header("X-API-Key"), let secret = secrets(key), let signature = header("X-Webhook-Signature"), let id = header("X-Webhook-Id"),
            let timestamp = header("X-Webhook-Timestamp"), let nonce = header("X-Webhook-Nonce")
        {
            let canonical = [
                "allscale:webhook:v1", "POST", request.uri.path, request.uri.query ?? "", id, timestamp, nonce,
                RequestSigning.bodyHash(Array(body.utf8)),
            ].joined(separator: "\n")
            valid = RequestSigning.isValid(signatureHeader: signature, canonical: canonical, secret: secret)
        }
        let path = request.uri.query.map { request.uri.path + "?" + $0 } ?? request.uri.path
        let received = Received(path: path, headers: headers, body: body, signatureValid: valid, at: Date())
        let (number, rule) = state.withLock { state -> (Int, @Sendable (Int, Received) -> Answer) in
            state.received.append(received)
            return (state.received.count, state.answer)
        }
        let answer = rule(number, received)
        if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
        var responseHeaders = HTTPFields()
        if let location = answer.location { responseHeaders[.location] = location }
        return Response(status: answer.status, headers: responseHeaders, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
