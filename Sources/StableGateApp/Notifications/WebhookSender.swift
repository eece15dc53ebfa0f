import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StableGateDomain
import StableGateStore

/// Sends one webhook attempt: checks the URL and the addresses its host resolves to, signs
/// the request with the store's API key as AllScale signs its webhooks (docs/WIRE-CONTRACT.md §7.2:
/// `X-Webhook-*` headers, the `allscale:webhook:v1` canonical string over the configured URL's
/// path and query and the endpoint's webhook id) — both endpoints alike, so one verifier serves
/// both — posts it to the address that was checked — no second lookup, so DNS rebinding cannot
/// redirect it — follows no redirects, and gives up after `timeout`.
struct WebhookSender: Sendable {
    let apiKeys: APIKeyRepository
    let secretBox: SecretBox
    let identifiers: any IdentifierGenerator
    let clock: any WallClock
    /// Sandbox: `http` URLs and loopback/private receivers are allowed.
    let sandbox: Bool
    let timeout: TimeInterval

    static let userAgent = "StableGate-Webhooks/1"
    static let excerptLimit = 1024

    /// The headers of a delivery of `body` to `url`; the events endpoint's also name the event.
    static func headers(
        url: URLComponents, body: String, apiKey: String, secret: String, webhookId: String, timestamp: String, nonce: String, eventId: String?
    ) -> [(String, String)] {
        var headers = [("Content-Type", "application/json"), ("User-Agent", userAgent)]
        headers += WebhookSigning.headers(
            path: url.percentEncodedPath, query: url.percentEncodedQuery ?? "", body: Array(body.utf8), apiKey: apiKey, secret: secret,
            webhookId: webhookId, timestamp: timestamp, nonce: nonce)
        if let eventId { headers.append(("X-Event-Id", eventId)) }
        return headers
    }

    /// Makes the attempt and says how it went; never throws.
    func send(_ claim: ClaimedWebhook) async -> WebhookAttemptResult {
        let started = ContinuousClock.now
        func result(status: Int? = nil, error: String? = nil, excerpt: String? = nil) -> WebhookAttemptResult {
            let elapsed = ContinuousClock.now - started
            let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            return WebhookAttemptResult(durationMilliseconds: milliseconds, httpStatus: status, error: error, responseExcerpt: excerpt)
        }
        guard let url = URLComponents(string: claim.url), let scheme = url.scheme?.lowercased(), let rawHost = url.host, !rawHost.isEmpty else {
            return result(error: "the webhook URL \(claim.url) is not an absolute URL")
        }
        // An IPv6 literal comes bracketed, as written in the URL.
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        guard scheme == "https" || (scheme == "http" && sandbox) else {
            return result(error: "refused: outside the sandbox webhooks go to https URLs only")
        }
        let pinned: [UInt8]
        do {
            let addresses = try await HostResolver.addresses(of: host)
            for address in addresses {
                if let reason = OutboundAddressPolicy.refusal(address, allowLocal: sandbox) {
                    return result(error: "refused: \(host) resolves to \(HostResolver.text(address)), a \(reason)")
                }
            }
            pinned = addresses.first { $0.count == 4 } ?? addresses[0]  // IPv4 first: receivers often listen on it only
        } catch {
            return result(error: "\(error)")
        }
        guard let key = try? await signingKey(storeId: claim.event.storeId) else {
            return result(error: "the store has no active API key to sign webhooks with")
        }
        guard let body = WebhookBody.naming(webhookId: claim.webhookId, in: claim.event.body) else {
            return result(error: "the stored event body is not a JSON object")
        }
        let headers = Self.headers(
            url: url, body: body, apiKey: key.id, secret: key.secret, webhookId: claim.webhookId,
            timestamp: String(Int64(clock.now.timeIntervalSince1970)), nonce: identifiers.randomBytes(16).hexString,
            eventId: claim.event.endpoint == .events ? claim.event.id : nil)

        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(Int64(timeout)), read: .seconds(Int64(timeout))))
        if OutboundAddressPolicy.literal(host) == nil { configuration.dnsOverride = [host: HostResolver.text(pinned)] }
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var request = HTTPClientRequest(url: claim.url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let outcome: WebhookAttemptResult
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            var excerpt: [UInt8] = []
            for try await chunk in response.body {
                excerpt += chunk.readableBytesView.prefix(Self.excerptLimit - excerpt.count)
                if excerpt.count >= Self.excerptLimit { break }
            }
            let status = Int(response.status.code)
            let text = String(decoding: excerpt, as: UTF8.self)
            outcome = result(status: status, error: (200...299).contains(status) ? nil : "HTTP \(status)", excerpt: text.isEmpty ? nil : text)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            outcome = result(error: "timed out after \(Int(timeout)) s")
        } catch {
            outcome = result(error: "\(error)")
        }
        try? await client.shutdown()
        return outcome
    }

    /// The store's key that signs webhooks: the active key the merchant used last (the one
    /// their servers have), else the newest active key.
    func signingKey(storeId: String) async throws -> (id: String, secret: String)? {
        let active = try await apiKeys.list(storeId: storeId).filter(\.isActive)
        let chosen = active.max { ($0.lastUsedAt ?? .distantPast, $0.createdAt) < ($1.lastUsedAt ?? .distantPast, $1.createdAt) }
        guard let chosen else { return nil }
        return (chosen.id, try secretBox.open(chosen.sealedSecret, purpose: APIKeyRecord.secretPurpose))
    }
}
