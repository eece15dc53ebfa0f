import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StableGateDomain
import StableGateEthereum

/// A KYT verdict on an address.
public struct ScreeningVerdict: Sendable, Equatable {
    public let flagged: Bool
    /// Why, in the provider's words (kept for the operator).
    public let detail: String?

    public init(flagged: Bool, detail: String?) {
        self.flagged = flagged
        self.detail = detail
    }
}

/// Screens a sender address before its payment is accepted (KYT). Throwing means "could not
/// screen now": the payment waits and screening is retried; it is never waved through.
public protocol AddressScreening: Sendable {
    var name: String { get }
    func screen(_ address: EthereumAddress) async throws -> ScreeningVerdict
}

/// Flags addresses listed in a local file: one address per line, `#` comments allowed.
public struct DenylistScreening: AddressScreening {
    public let name: String
    private let listed: Set<String>

    /// Reads the list; a malformed line is an error, not silently skipped.
    public init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var listed = Set<String>()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let address = EthereumAddress(trimmed) ?? EthereumAddress(trimmed.lowercased()) else {
                throw ChainConfigurationError(problems: ["KYT denylist \(path) line \(number + 1) is not an address: \(trimmed)"])
            }
            listed.insert(address.lowercased)
        }
        self.listed = listed
        self.name = "denylist \(path)"
    }

    public func screen(_ address: EthereumAddress) async throws -> ScreeningVerdict {
        listed.contains(address.lowercased)
            ? ScreeningVerdict(flagged: true, detail: "listed in the KYT denylist")
            : ScreeningVerdict(flagged: false, detail: nil)
    }
}

/// Asks an HTTP screening service, in the shape of public sanctions APIs (Chainalysis'
/// free sanctions API among them): `GET {url}/{address}` with the key in `X-API-Key`,
/// answering `{"identifications": [...]}` (non-empty means flagged) or `{"sanctioned": bool}`.
public struct HTTPScreening: AddressScreening {
    public let name: String
    private let baseURL: String
    private let apiKey: String?
    private let client: HTTPClient

    public init(url: String, apiKey: String?, client: HTTPClient = .shared) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.client = client
        self.name = "http " + (URLComponents(string: url)?.host ?? url)
    }

    public func screen(_ address: EthereumAddress) async throws -> ScreeningVerdict {
        var request = HTTPClientRequest(url: "\(baseURL)/\(address.checksummed)")
        request.headers.add(name: "Accept", value: "application/json")
        if let apiKey { request.headers.add(name: "X-API-Key", value: apiKey) }
        let response = try await client.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { throw ScreeningUnavailable(detail: "\(name) answered HTTP \(response.status.code)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONParser.parse(body.readableBytesView)
        if case .array(let identifications)? = json["identifications"] {
            guard !identifications.isEmpty else { return ScreeningVerdict(flagged: false, detail: nil) }
            let names = identifications.compactMap { entry -> String? in
                if case .string(let text)? = entry["name"] ?? entry["category"] { return text }
                return nil
            }
            return ScreeningVerdict(flagged: true, detail: names.isEmpty ? "identified by \(name)" : names.joined(separator: "; "))
        }
        if case .bool(let sanctioned)? = json["sanctioned"] {
            return ScreeningVerdict(flagged: sanctioned, detail: sanctioned ? "sanctioned according to \(name)" : nil)
        }
        throw ScreeningUnavailable(detail: "\(name) answered without identifications or sanctioned")
    }
}

/// Screening could not be done now; it will be retried.
public struct ScreeningUnavailable: Error, Sendable, CustomStringConvertible {
    public let detail: String
    public var description: String { "KYT screening unavailable: \(detail)" }
}
