import Foundation
import StableGateDomain

/// The bundled snapshot of rates for all 163 currencies (`Resources/fx-snapshot.json`): the
/// sandbox default. Approximate mid-market rates; its `as_of` date is stored with every intent
/// priced from it.
public struct SnapshotRateProvider: RateProvider {
    public let name = "snapshot"
    let parsed: RateDocument.Parsed

    /// Loads the bundled snapshot.
    public init() throws {
        guard let url = Bundle.module.url(forResource: "fx-snapshot", withExtension: "json", subdirectory: "Resources") else {
            throw RateDocumentError("bundled fx-snapshot.json is missing from the build")
        }
        try self.init(document: Array(try Data(contentsOf: url)))
    }

    /// Uses a given document (tests).
    init(document: [UInt8]) throws {
        parsed = try RateDocument.parse(document)
    }

    /// When the snapshot was taken.
    public var asOf: Date { parsed.asOf }

    /// The currencies it covers.
    public var currencies: Set<FiatCurrency> { Set(parsed.rates.keys) }

    public func rate(for currency: FiatCurrency) async throws -> ExchangeRate? {
        parsed.rates[currency].map { ExchangeRate(currency: currency, fiatPerCoin: $0, asOf: parsed.asOf, source: name) }
    }
}
