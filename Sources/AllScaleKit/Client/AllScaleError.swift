/// What went wrong with a call. Server refusals carry the envelope's `code`, message and
/// `request_id` (quote it to the gateway's operator: every log line of the request has it).
public enum AllScaleError: Error, Sendable, CustomStringConvertible {
    /// The server answered with an error envelope.
    case api(code: Int, message: String, requestId: String?, httpStatus: Int, retryAfterSeconds: Int?)
    /// No answer: connection refused, reset, timed out. Retried when that is safe.
    case transport(String)
    /// An answer that is not the documented envelope (a proxy's error page, a wrong base URL).
    case unexpectedResponse(httpStatus: Int, excerpt: String)
    /// `waitForTerminalStatus` ran out of time; `last` is the status seen last.
    case timedOut(last: CheckoutStatus?)
    /// `verifyResponseSignatures` is on and the answer lacks a signature header
    /// (docs/WIRE-CONTRACT.md §8): the store does not sign responses, or something between you and
    /// the server answered. Nothing of the body was used. GETs are retried on a 5xx.
    case unsignedResponse(httpStatus: Int, reason: String)
    /// `verifyResponseSignatures` is on and the answer's signature does not verify, or it echoes
    /// another request's nonce (docs/WIRE-CONTRACT.md §8): a wrong API secret, or a tampered or
    /// replayed answer. Nothing of the body was used; never retried.
    case badResponseSignature(httpStatus: Int, reason: String)

    /// The envelope code of an API error (10001 validation, 20001/20002 authentication, 30001
    /// forbidden, 40001 rate limited, 50001 not found, 50002 business rule, 90000 server).
    public var code: Int? { if case .api(let code, _, _, _, _) = self { code } else { nil } }
    public var requestId: String? { if case .api(_, _, let id, _, _) = self { id } else { nil } }

    public var description: String {
        switch self {
        case .api(let code, let message, let requestId, let status, _):
            "AllScale API error \(code) (HTTP \(status)): \(message)" + (requestId.map { " [request_id \($0)]" } ?? "")
        case .transport(let reason): "could not reach the AllScale API: \(reason)"
        case .unexpectedResponse(let status, let excerpt): "unexpected answer (HTTP \(status)), not an AllScale envelope: \(excerpt)"
        case .timedOut(let last): "gave up waiting for a terminal status (last seen: \(last?.description ?? "none"))"
        case .unsignedResponse(let status, let reason): "unsigned answer (HTTP \(status)) although response signatures are required: \(reason)"
        case .badResponseSignature(let status, let reason): "the answer's signature does not verify (HTTP \(status)): \(reason)"
        }
    }
}
