import BigInt

/// EIP-681 payment requests for ERC-20 transfers, the text wallets read from QR codes:
/// `ethereum:<token>@<chainId>/transfer?address=<recipient>&uint256=<base units>`.
public enum PaymentURI {
    public static func erc20Transfer(token: String, chainId: Int64, recipient: String, baseUnits: BigUInt) -> String {
        "ethereum:\(token)@\(chainId)/transfer?address=\(recipient)&uint256=\(baseUnits)"
    }
}
