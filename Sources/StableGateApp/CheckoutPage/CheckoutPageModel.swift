/// What the hosted checkout page shows: the store, the order and its amount, then exactly one
/// state section — choosing a network, paying, detected, paid, ended, or confirming a cancel.
struct CheckoutPage: Sendable {
    struct Store: Sendable {
        let name, initials: String
        let logoURL: String?
    }

    struct Order: Sendable {
        let description, id: String?
    }

    struct Amount: Sendable {
        let coins, coin: String
        var fiat: String?
        var rate: String?
    }

    struct Language: Sendable {
        let code, name: String
        let current: Bool
        let href: String
    }

    /// A network and coin to pay with.
    struct Option: Sendable {
        let value, coin, network: String
        let checked: Bool
    }

    struct Transaction: Sendable {
        let hash: String
        let explorer: String?
    }

    /// The deposit address, amount, QR code and wallet details.
    struct Pay: Sendable {
        let address, amount, coin, network: String
        /// `qr`: inline SVG of the EIP-681 payment URI.
        let qr, sendOnly: String
        let secondsLeft: Int
        let timeLeft, payBefore, chainIdHex, tokenContract, unitsHex: String
        let expiresEpoch: Int64
        let walletPay, walletSwitch: String
        let walletRPC, nativeSymbol, nativeName: String?
    }

    /// A payment seen on chain, confirming.
    struct Detected: Sendable {
        let body, confirmations, confirmationsTemplate: String
        let current: Int64
        let required: Int
        let partial: Bool
        let received, remaining: String?
        let tx: Transaction?
    }

    struct FundSent: Sendable {
        let body: String
        let tx: Transaction?
        let note: String?
    }

    /// An order that ended without (enough) payment, or waits for the operator.
    struct Ended: Sendable {
        let kind, title, body: String
        let tx: Transaction?
    }

    struct AccountPaying: Sendable {
        let body: String
    }

    let lang: String
    /// The page's texts in its language, by ``CheckoutText`` name.
    let t: [String: String]
    let intentId, path: String
    let status: Int
    let csrf, title: String
    let store: Store
    let order: Order
    let languages: [Language]
    var error: String?
    var amount: Amount
    var confirmCancel = false
    var choose = false
    var accountPaying: AccountPaying?
    var pay: Pay?
    var detected: Detected?
    var fundSent: FundSent?
    var ended: Ended?
    var payWithAccount: String?
    var options: [Option] = []
    var hasOptions = false
    var returnURL: String?
    var cancelable = false
    var live = false
    var autoRefresh: Int?
}

/// The one page of every unknown checkout token.
struct NotFoundPage: Sendable {
    let lang: String
    let t: [String: String]
    let languages: [CheckoutPage.Language]
}
