import Testing

@testable import StableGateDomain

@Suite("Enums of the wire contract (docs/WIRE-CONTRACT.md §12, §6.1)")
struct EnumTests {
    @Test("Appendix A (docs/WIRE-CONTRACT.md §12.1) has 163 currencies numbered 1…163 with unique three-letter codes")
    func currencies() {
        #expect(FiatCurrency.allCases.count == 163)
        #expect(FiatCurrency.allCases.map(\.rawValue) == Array(1...163))
        let codes = FiatCurrency.allCases.map(\.code)
        #expect(Set(codes).count == 163)
        #expect(codes.allSatisfy { $0.count == 3 && $0 == $0.uppercased() })
        #expect(FiatCurrency.allCases.allSatisfy { !$0.name.isEmpty })
    }

    @Test(
        "Spot checks against Appendix A (docs/WIRE-CONTRACT.md §12.1)",
        arguments: [
            (1, "USD", "US Dollar"), (44, "EUR", "Euro"), (48, "GBP", "British Pound"), (72, "JPY", "Japanese Yen"),
            (31, "CNY", "Chinese Yuan"), (33, "CRC", "Costa Rican Colón"), (93, "MNT", "Mongolian Tögrög"),
            (115, "PYG", "Paraguayan Guaraní"), (133, "STN", "São Tomé and Príncipe Dobra"), (140, "TOP", "Tongan Paʻanga"),
            (141, "TRY", "Turkish Lira"), (156, "XCG", "Caribbean Guilder"), (163, "ZWL", "Zimbabwe Dollar"),
        ])
    func currencySpotChecks(value: Int, code: String, name: String) throws {
        let currency = try #require(FiatCurrency(rawValue: value))
        #expect(currency.code == code)
        #expect(currency.name == name)
        #expect(FiatCurrency(code: code) == currency)
        #expect(FiatCurrency(code: code.lowercased()) == currency)
    }

    @Test("Appendix B (docs/WIRE-CONTRACT.md §12.2) has 10 coins; only USDT and USDC are enabled")
    func coins() {
        #expect(StableCoin.allCases.map(\.rawValue) == Array(1...10))
        #expect(StableCoin.allCases.map(\.code) == ["USDT", "USDC", "BUSD", "DAI", "TUSD", "PAX", "GUSD", "USTC", "FRAX", "EURS"])
        #expect(StableCoin.usdt.name == "Tether USD")
        #expect(StableCoin.eurs.name == "Stasis Euro")
        #expect(StableCoin.allCases.filter(\.isEnabled) == [.usdt, .usdc])
        #expect(StableCoin.defaultSettlement == .usdt)
    }

    @Test("Statuses (docs/WIRE-CONTRACT.md §6.1): values, names and terminal flags")
    func statuses() {
        let table: [(Int, String, Bool)] = [
            (-5, "TIMEOUT", true), (-4, "CANCELED", true), (-3, "UNDERPAID", true), (-2, "REJECTED", true), (-1, "FAILED", true),
            (1, "CREATED", false), (2, "PAYING", false), (3, "TEMP_WALLET_RECEIVED", false), (4, "PENDING_MANUAL_OPERATION", false),
            (5, "SEND_BACK", false), (10, "ON_CHAIN", false), (20, "CONFIRMED", true),
        ]
        #expect(CheckoutStatus.allCases.count == table.count)
        for (value, name, terminal) in table {
            let status = CheckoutStatus(rawValue: value)
            #expect(status?.name == name)
            #expect(status?.isTerminal == terminal)
            #expect(CheckoutStatus(name: name) == status)
        }
        // AllScale's older name for 2 (VIEWED) is still understood; the wire value does not change.
        #expect(CheckoutStatus(name: "VIEWED") == .paying && CheckoutStatus(name: "viewed")?.rawValue == 2)
        #expect(CheckoutStatus(name: "WAITING") == nil)
    }

    @Test("Payment method types (docs/WIRE-CONTRACT.md §12.3)")
    func paymentMethods() {
        #expect(
            PaymentMethodType.allCases.map { "\($0.rawValue)=\($0.name)" } == [
                "0=UNKNOWN", "1=WALLET_SCAN", "2=WALLET_CONNECT", "3=ALL_SCALE_PAY",
            ])
    }

    @Test("Error codes map to the HTTP statuses of docs/WIRE-CONTRACT.md §3.2")
    func errorCodes() {
        let expected: [(APIErrorCode, Int, Int)] = [
            (.success, 0, 200), (.validation, 10001, 400), (.missingAuthentication, 20001, 401), (.invalidSignature, 20002, 401),
            (.forbidden, 30001, 403), (.rateLimited, 40001, 429), (.notFound, 50001, 404), (.createFailed, 50002, 422),
            (.internalError, 90000, 500), (.unknown, 99999, 500),
        ]
        for (code, value, status) in expected {
            #expect(code.rawValue == value)
            #expect(code.httpStatus == status)
        }
    }
}
