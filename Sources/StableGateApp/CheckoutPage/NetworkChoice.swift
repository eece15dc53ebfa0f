import StableGateDomain

/// A network and coin as the pages' radio buttons carry them: `<chain id>:<stable coin>`,
/// e.g. `56:1` for USDT on BNB Smart Chain.
struct NetworkChoice: Sendable, Equatable {
    let chainId: Int64
    let coin: StableCoin

    init(chainId: Int64, coin: StableCoin) {
        self.chainId = chainId
        self.coin = coin
    }

    /// Parses a submitted form value; nil for anything else.
    init?(formValue: String?) {
        let parts = (formValue ?? "").split(separator: ":")
        guard parts.count == 2, let chainId = Int64(parts[0]), let coin = Int(parts[1]).flatMap(StableCoin.init(rawValue:)) else { return nil }
        self.init(chainId: chainId, coin: coin)
    }

    /// The value a form submits.
    var formValue: String { "\(chainId):\(coin.rawValue)" }
}
