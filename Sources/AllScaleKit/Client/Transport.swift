import AsyncHTTPClient
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One HTTP request as the client sends it: the path and query exactly as signed.
public struct TransportRequest: Sendable {
    public var method: String
    /// Full URL (base URL + path + query).
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
}

/// One HTTP response.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
}

/// Sends requests. Inject your own to add tracing, a proxy, or to test without a network.
public protocol AllScaleTransport: Sendable {
    func send(_ request: TransportRequest, timeout: Duration) async throws -> TransportResponse
}

/// The default transport: AsyncHTTPClient's shared client (no redirects followed: a signed
/// request is for one URL).
public struct AsyncHTTPClientTransport: AllScaleTransport {
    let client: HTTPClient

    public init(client: HTTPClient = .shared) {
        self.client = client
    }

    public func send(_ request: TransportRequest, timeout: Duration) async throws -> TransportResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let response = try await client.execute(
            outgoing, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return TransportResponse(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(body.readableBytesView))
    }
}

/// Where the client reads the time (signing timestamps) and how it waits (back-off).
public protocol AllScaleClock: Sendable {
    var now: Date { get }
    func sleep(for duration: Duration) async throws
}

/// The system clock.
public struct SystemAllScaleClock: AllScaleClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
