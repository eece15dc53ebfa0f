import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StableGateDomain
import StableGateStore
import Synchronization

/// Live rates from an HTTP endpoint returning a USD-based document (see ``RateDocument``),
/// fetched at most once per TTL. When a refresh fails the last good document keeps serving, so
/// the freshness rule in ``RateService`` decides when it is too old.
public final class HTTPRateProvider: RateProvider {
    public let name: String
    private let url: String
    private let ttl: TimeInterval
    private let client: HTTPClient
    private let clock: any WallClock
    private let logger: Logger
    private let cache = Mutex<(fetchedAt: Date, document: RateDocument.Parsed)?>(nil)
    private let refresh = AsyncSerialLock()

    /// Largest rate document accepted.
    static let maximumDocumentBytes = 1 << 20

    public init(url: String, ttl: TimeInterval, client: HTTPClient = .shared, clock: any WallClock, logger: Logger) {
        self.url = url
        self.ttl = ttl
        self.client = client
        self.clock = clock
        self.logger = logger
        self.name = "http " + (URLComponents(string: url)?.host ?? url)
    }

    public func rate(for currency: FiatCurrency) async throws -> ExchangeRate? {
        let document = try await currentDocument()
        return document.rates[currency].map { ExchangeRate(currency: currency, fiatPerCoin: $0, asOf: document.asOf, source: name) }
    }

    private func fresh() -> RateDocument.Parsed? {
        cache.withLock { cached in
            guard let cached, clock.now.timeIntervalSince(cached.fetchedAt) < ttl else { return nil }
            return cached.document
        }
    }

    private func currentDocument() async throws -> RateDocument.Parsed {
        if let document = fresh() { return document }
        // One fetch at a time; callers that waited reuse what it got.
        return try await refresh.withLock {
            if let document = fresh() { return document }
            do {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Accept", value: "application/json")
                let response = try await client.execute(request, timeout: .seconds(10))
                guard response.status == .ok else { throw RateDocumentError("rate endpoint answered HTTP \(response.status.code)") }
                let body = try await response.body.collect(upTo: Self.maximumDocumentBytes)
                let document = try RateDocument.parse(body.readableBytesView)
                cache.withLock { $0 = (clock.now, document) }
                return document
            } catch {
                logger.warning("FX rate refresh failed", metadata: ["provider": "\(name)", "error": "\(error)"])
                if let stale = cache.withLock({ $0?.document }) { return stale }
                throw error
            }
        }
    }
}
