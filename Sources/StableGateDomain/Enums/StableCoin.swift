/// A stable coin as the AllScale Open API numbers it (docs/WIRE-CONTRACT.md §12.2). The raw value is the wire value.
///
/// Only USDT and USDC are enabled (docs/WIRE-CONTRACT.md §12.2); every other coin is reserved and rejected.
public enum StableCoin: Int, CaseIterable, Sendable, Hashable, Codable {
    case usdt = 1
    case usdc = 2
    case busd = 3
    case dai = 4
    case tusd = 5
    case pax = 6
    case gusd = 7
    case ustc = 8
    case frax = 9
    case eurs = 10

    /// Ticker as printed in docs/WIRE-CONTRACT.md §12.2, e.g. `USDT`.
    public var code: String {
        switch self {
        case .usdt: "USDT"
        case .usdc: "USDC"
        case .busd: "BUSD"
        case .dai: "DAI"
        case .tusd: "TUSD"
        case .pax: "PAX"
        case .gusd: "GUSD"
        case .ustc: "USTC"
        case .frax: "FRAX"
        case .eurs: "EURS"
        }
    }

    /// Full name as printed in docs/WIRE-CONTRACT.md §12.2, e.g. `Tether USD`.
    public var name: String {
        switch self {
        case .usdt: "Tether USD"
        case .usdc: "USD Coin"
        case .busd: "Binance USD"
        case .dai: "Dai"
        case .tusd: "TrueUSD"
        case .pax: "Pax Dollar"
        case .gusd: "Gemini Dollar"
        case .ustc: "TerraClassicUSD"
        case .frax: "Frax"
        case .eurs: "Stasis Euro"
        }
    }

    /// Whether checkout intents may be priced in or settled with this coin.
    public var isEnabled: Bool { self == .usdt || self == .usdc }

    /// The coin used when a fiat-priced intent names no `accepted_stable_coins`.
    public static let defaultSettlement: StableCoin = .usdt
}
