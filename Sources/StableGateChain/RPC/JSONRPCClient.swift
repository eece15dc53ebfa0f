import AsyncHTTPClient
import Logging
import NIOCore
import StableGateDomain
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An error a JSON-RPC node returned, or a failure to reach it.
public enum JSONRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The node answered with an error object.
    case node(code: Int, message: String)
    /// The node could not be reached or answered something unreadable.
    case transport(String)
    /// The result did not have the expected shape.
    case unexpectedResult(method: String, detail: String)

    public var description: String {
        switch self {
        case .node(let code, let message): "node error \(code): \(message)"
        case .transport(let detail): "RPC transport error: \(detail)"
        case .unexpectedResult(let method, let detail): "unexpected \(method) result: \(detail)"
        }
    }
}

/// A plain Ethereum JSON-RPC 2.0 client over HTTP(S), so any node or provider works.
public final class JSONRPCClient: Sendable {
    public let url: String
    private let client: HTTPClient
    private let timeout: TimeAmount
    private let nextId = Atomic<Int>(1)
    /// Largest response accepted (a `eth_getLogs` over a busy range can be large).
    static let maximumResponseBytes = 64 << 20

    public init(url: String, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(15)) {
        self.url = url
        self.client = client
        self.timeout = timeout
    }

    /// Calls `method` and returns its `result`.
    public func call(_ method: String, _ params: [JSONValue]) async throws -> JSONValue {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        let body = JSONValue.object([
            ("jsonrpc", .string("2.0")), ("id", .int(id)), ("method", .string(method)), ("params", .array(params)),
        ])
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.serialized))
        let json: JSONValue
        do {
            let response = try await client.execute(request, timeout: timeout)
            guard response.status == .ok else { throw JSONRPCError.transport("HTTP \(response.status.code) from \(method)") }
            let bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
            json = try JSONParser.parse(bytes.readableBytesView)
        } catch let error as JSONRPCError {
            throw error
        } catch {
            throw JSONRPCError.transport("\(method): \(error)")
        }
        if let failure = json["error"], failure != .null {
            var code = 0
            if case .number(let text)? = failure["code"] { code = Int(text) ?? 0 }
            var message = "unknown error"
            if case .string(let text)? = failure["message"] { message = text }
            throw JSONRPCError.node(code: code, message: message)
        }
        guard let result = json["result"] else { throw JSONRPCError.unexpectedResult(method: method, detail: "no result") }
        return result
    }
}
