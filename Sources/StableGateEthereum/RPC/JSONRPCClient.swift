import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StableGateDomain
import Synchronization

/// An error a JSON-RPC node returned, or a failure to reach it. Every answer a node gives is
/// untrusted input: whatever it sends becomes one of these for that attempt, never a crash
/// and never a silent empty result.
public enum JSONRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The node answered with an error object.
    case node(code: Int, message: String)
    /// The node could not be reached, hung past the timeout, or answered something unreadable
    /// (an HTTP error page, a truncated or empty body).
    case transport(String)
    /// The provider refused for now (HTTP 429), with its `Retry-After` when it gave one.
    case rateLimited(retryAfterSeconds: Int?, detail: String)
    /// The result did not have the expected shape.
    case unexpectedResult(method: String, detail: String)

    public var description: String {
        switch self {
        case .node(let code, let message): "node error \(code): \(message)"
        case .transport(let detail): "RPC transport error: \(detail)"
        case .rateLimited(let seconds, let detail): "rate limited\(seconds.map { " (retry after \($0) s)" } ?? ""): \(detail)"
        case .unexpectedResult(let method, let detail): "unexpected \(method) result: \(detail)"
        }
    }
}

/// One call of a JSON-RPC batch.
public struct JSONRPCCall: Sendable, Equatable {
    public let method: String
    public let params: [JSONValue]

    public init(_ method: String, _ params: [JSONValue]) {
        self.method = method
        self.params = params
    }
}

/// Something that answers Ethereum JSON-RPC calls: one endpoint (``JSONRPCClient``) or several
/// with failover (``RPCEndpointPool``).
public protocol JSONRPCCalling: Sendable {
    /// Calls `method` and returns its `result`.
    func call(_ method: String, _ params: [JSONValue]) async throws -> JSONValue
    /// Sends `calls` as one JSON-RPC batch to one endpoint (one HTTP request, so one backend
    /// behind a load balancer) and returns each call's result or error, in order.
    func batch(_ calls: [JSONRPCCall]) async throws -> [Result<JSONValue, JSONRPCError>]
    /// Runs `body` against one endpoint after another until one gives an answer; nil from
    /// `body` means "this endpoint is behind what was asked" and moves on to the next.
    func firstAnswer<T: Sendable>(_ method: String, _ body: (JSONRPCClient) async throws -> T?) async throws -> T
}

/// A plain Ethereum JSON-RPC 2.0 client over HTTP(S), so any node or provider works.
public final class JSONRPCClient: JSONRPCCalling {
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

    public func call(_ method: String, _ params: [JSONValue]) async throws -> JSONValue {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        let json = try await post(Self.request(id: id, JSONRPCCall(method, params)), label: method)
        return try Self.result(of: json, method: method).get()
    }

    public func firstAnswer<T: Sendable>(_ method: String, _ body: (JSONRPCClient) async throws -> T?) async throws -> T {
        guard let value = try await body(self) else { throw JSONRPCError.transport("\(method): the node is behind the block asked for") }
        return value
    }

    public func batch(_ calls: [JSONRPCCall]) async throws -> [Result<JSONValue, JSONRPCError>] {
        guard !calls.isEmpty else { return [] }
        let first = nextId.wrappingAdd(calls.count, ordering: .relaxed).oldValue
        let body = JSONValue.array(calls.enumerated().map { Self.request(id: first + $0.offset, $0.element) })
        let label = "batch(" + calls.map(\.method).joined(separator: ",") + ")"
        // A node may answer a whole batch with one error object (no batch support, rate limit).
        let json = try await post(body, label: label)
        if case .object = json { _ = try Self.result(of: json, method: label).get() }
        guard case .array(let answers) = json else { throw JSONRPCError.unexpectedResult(method: label, detail: "not an array") }
        // Answers may come in any order; match them by id. A missing one is an error of its call.
        var byId: [Int: JSONValue] = [:]
        for answer in answers {
            if case .number(let text)? = answer["id"], let id = Int(text) { byId[id] = answer }
        }
        return calls.enumerated().map { index, call in
            guard let answer = byId[first + index] else {
                return .failure(.unexpectedResult(method: call.method, detail: "no answer in the batch"))
            }
            return Self.result(of: answer, method: call.method)
        }
    }

    static func request(id: Int, _ call: JSONRPCCall) -> JSONValue {
        .object([("jsonrpc", .string("2.0")), ("id", .int(id)), ("method", .string(call.method)), ("params", .array(call.params))])
    }

    /// The `result` of one answer, or its error.
    static func result(of json: JSONValue, method: String) -> Result<JSONValue, JSONRPCError> {
        if let failure = json["error"], failure != .null {
            var code = 0
            if case .number(let text)? = failure["code"] { code = Int(text) ?? 0 }
            var message = "unknown error"
            if case .string(let text)? = failure["message"] { message = text }
            // Some providers put the detail (a suggested range, a limit) in `data`.
            if case .string(let data)? = failure["data"] { message += " (\(data))" }
            return .failure(.node(code: code, message: message))
        }
        guard let result = json["result"] else { return .failure(.unexpectedResult(method: method, detail: "no result")) }
        return .success(result)
    }

    private func post(_ body: JSONValue, label: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.serialized))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
            let status = Int(response.status.code)
            if status == 429 {
                let seconds = response.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                throw JSONRPCError.rateLimited(retryAfterSeconds: seconds, detail: "HTTP 429 from \(label)")
            }
            guard status == 200 else {
                throw JSONRPCError.transport("HTTP \(status) from \(label): \(Self.excerpt(bytes))")
            }
            guard bytes.readableBytes > 0 else { throw JSONRPCError.transport("empty answer to \(label)") }
            do {
                return try JSONParser.parse(bytes.readableBytesView)
            } catch {
                throw JSONRPCError.transport("unreadable answer to \(label) (\(error)): \(Self.excerpt(bytes))")
            }
        } catch let error as JSONRPCError {
            throw error
        } catch {
            throw JSONRPCError.transport("\(label): \(error)")
        }
    }

    /// The start of an answer, printable, for the log.
    static func excerpt(_ bytes: ByteBuffer) -> String {
        String(decoding: bytes.readableBytesView.prefix(120), as: UTF8.self).filter { !$0.isNewline }
    }
}
