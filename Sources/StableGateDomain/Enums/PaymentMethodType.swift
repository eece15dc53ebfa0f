/// How the customer paid (docs/WIRE-CONTRACT.md §12.3). The raw value is the wire value.
public enum PaymentMethodType: Int, CaseIterable, Sendable, Hashable, Codable {
    /// Not known yet (nothing paid).
    case unknown = 0
    /// The customer scanned or copied the deposit address and sent from any wallet.
    case walletScan = 1
    /// The customer connected an injected wallet on the checkout page.
    case walletConnect = 2
    /// The customer paid from a StableGate ("AllScale Pay") account.
    case allScalePay = 3

    /// Upper-case name as printed in docs/WIRE-CONTRACT.md §12.3, e.g. `WALLET_SCAN`.
    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .walletScan: "WALLET_SCAN"
        case .walletConnect: "WALLET_CONNECT"
        case .allScalePay: "ALL_SCALE_PAY"
        }
    }
}
