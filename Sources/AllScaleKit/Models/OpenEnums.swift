// Transcribed from StableGateDomain/Enums (docs/WIRE-CONTRACT.md §12 and §6.1); AllScaleKitTests checks
// every value and name against the server's enums.

/// An integer enum of the Open API, kept open: a value this SDK does not know yet (a newer
/// server) decodes and round-trips as itself instead of failing; its `name` is nil.
public protocol OpenIntegerEnum: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible where RawValue == Int {
    init(rawValue: Int)
    /// Names by wire value, as docs/WIRE-CONTRACT.md §12 and §6.1 name them.
    static var names: [Int: String] { get }
}

extension OpenIntegerEnum {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(Int.self)) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The name docs/WIRE-CONTRACT.md gives (e.g. `CONFIRMED`), nil for a value unknown to this SDK.
    public var name: String? { Self.names[rawValue] }
    public var description: String { name ?? "\(rawValue) (unknown)" }
}

/// A stable coin as the Open API numbers it (docs/WIRE-CONTRACT.md §12.2).
public struct StableCoin: OpenIntegerEnum {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let usdt = StableCoin(rawValue: 1)
    public static let usdc = StableCoin(rawValue: 2)
    public static let busd = StableCoin(rawValue: 3)
    public static let dai = StableCoin(rawValue: 4)
    public static let tusd = StableCoin(rawValue: 5)
    public static let pax = StableCoin(rawValue: 6)
    public static let gusd = StableCoin(rawValue: 7)
    public static let ustc = StableCoin(rawValue: 8)
    public static let frax = StableCoin(rawValue: 9)
    public static let eurs = StableCoin(rawValue: 10)

    /// Every value docs/WIRE-CONTRACT.md §12.2 lists, in wire order.
    public static let known: [StableCoin] = [.usdt, .usdc, .busd, .dai, .tusd, .pax, .gusd, .ustc, .frax, .eurs]

    public static let names: [Int: String] = [
        1: "USDT", 2: "USDC", 3: "BUSD", 4: "DAI", 5: "TUSD", 6: "PAX", 7: "GUSD", 8: "USTC", 9: "FRAX", 10: "EURS",
    ]
}

/// A checkout intent status: AllScale's original values plus its newer ones
/// (docs/WIRE-CONTRACT.md §6.1: TIMEOUT, PENDING_MANUAL_OPERATION, SEND_BACK, and 2 named PAYING).
public struct CheckoutStatus: OpenIntegerEnum {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The intent stayed pending too long and expired (terminal).
    public static let timeout = CheckoutStatus(rawValue: -5)
    /// The customer canceled the checkout (terminal).
    public static let canceled = CheckoutStatus(rawValue: -4)
    /// Less than the amount due was paid (terminal).
    public static let underpaid = CheckoutStatus(rawValue: -3)
    /// Rejected by KYT screening (terminal).
    public static let rejected = CheckoutStatus(rawValue: -2)
    /// A processing error (terminal).
    public static let failed = CheckoutStatus(rawValue: -1)
    /// Created, not yet opened by the customer.
    public static let created = CheckoutStatus(rawValue: 1)
    /// The customer opened the checkout page (docs/WIRE-CONTRACT.md §6.1).
    public static let paying = CheckoutStatus(rawValue: 2)
    /// AllScale's older name (VIEWED) for ``paying``: the same wire value 2, kept so older code still compiles.
    public static let viewed = paying
    /// A temporary deposit wallet was assigned.
    public static let tempWalletReceived = CheckoutStatus(rawValue: 3)
    /// Waiting for manual review (docs/WIRE-CONTRACT.md §6.1).
    public static let pendingManualOperation = CheckoutStatus(rawValue: 4)
    /// A refund to the payer is in progress (docs/WIRE-CONTRACT.md §6.1).
    public static let sendBack = CheckoutStatus(rawValue: 5)
    /// A transfer was seen on chain and awaits confirmation.
    public static let onChain = CheckoutStatus(rawValue: 10)
    /// The payment is confirmed (terminal).
    public static let confirmed = CheckoutStatus(rawValue: 20)

    /// Every value docs/WIRE-CONTRACT.md §6.1 lists, in wire order (ascending, as the server lists them).
    public static let known: [CheckoutStatus] = [
        .timeout, .canceled, .underpaid, .rejected, .failed, .created, .paying, .tempWalletReceived, .pendingManualOperation, .sendBack, .onChain,
        .confirmed,
    ]

    public static let names: [Int: String] = [
        -5: "TIMEOUT", -4: "CANCELED", -3: "UNDERPAID", -2: "REJECTED", -1: "FAILED", 1: "CREATED", 2: "PAYING", 3: "TEMP_WALLET_RECEIVED",
        4: "PENDING_MANUAL_OPERATION", 5: "SEND_BACK", 10: "ON_CHAIN", 20: "CONFIRMED",
    ]

    /// Names accepted besides ``names``: AllScale's older name `VIEWED` for ``paying``.
    public static let aliases: [String: CheckoutStatus] = ["VIEWED": .paying]

    /// Looks a status up by name, case-insensitively: every name in ``names`` and every alias
    /// (so both `PAYING` and `VIEWED` give 2). Nil for a name this SDK does not know.
    public init?(name: String) {
        let upper = name.uppercased()
        if let status = Self.aliases[upper] {
            self = status
        } else if let value = Self.names.first(where: { $0.value == upper })?.key {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    /// Every negative value (TIMEOUT, CANCELED, UNDERPAID, REJECTED, FAILED — and any negative
    /// value a newer server adds) and CONFIRMED end an intent: stop polling (docs/WIRE-CONTRACT.md §6.1).
    public var isTerminal: Bool { rawValue < 0 || rawValue == 20 }
}

/// How the customer paid (docs/WIRE-CONTRACT.md §12.3).
public struct PaymentMethodType: OpenIntegerEnum {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let unknown = PaymentMethodType(rawValue: 0)
    public static let walletScan = PaymentMethodType(rawValue: 1)
    public static let walletConnect = PaymentMethodType(rawValue: 2)
    public static let allScalePay = PaymentMethodType(rawValue: 3)

    /// Every value docs/WIRE-CONTRACT.md §12.3 lists, in wire order.
    public static let known: [PaymentMethodType] = [.unknown, .walletScan, .walletConnect, .allScalePay]

    public static let names: [Int: String] = [0: "UNKNOWN", 1: "WALLET_SCAN", 2: "WALLET_CONNECT", 3: "ALL_SCALE_PAY"]
}

/// A fiat currency as the Open API numbers it (docs/WIRE-CONTRACT.md §12.1).
public struct FiatCurrency: OpenIntegerEnum {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let usd = FiatCurrency(rawValue: 1)
    public static let aed = FiatCurrency(rawValue: 2)
    public static let afn = FiatCurrency(rawValue: 3)
    public static let `all` = FiatCurrency(rawValue: 4)
    public static let amd = FiatCurrency(rawValue: 5)
    public static let ang = FiatCurrency(rawValue: 6)
    public static let aoa = FiatCurrency(rawValue: 7)
    public static let ars = FiatCurrency(rawValue: 8)
    public static let aud = FiatCurrency(rawValue: 9)
    public static let awg = FiatCurrency(rawValue: 10)
    public static let azn = FiatCurrency(rawValue: 11)
    public static let bam = FiatCurrency(rawValue: 12)
    public static let bbd = FiatCurrency(rawValue: 13)
    public static let bdt = FiatCurrency(rawValue: 14)
    public static let bgn = FiatCurrency(rawValue: 15)
    public static let bhd = FiatCurrency(rawValue: 16)
    public static let bif = FiatCurrency(rawValue: 17)
    public static let bmd = FiatCurrency(rawValue: 18)
    public static let bnd = FiatCurrency(rawValue: 19)
    public static let bob = FiatCurrency(rawValue: 20)
    public static let brl = FiatCurrency(rawValue: 21)
    public static let bsd = FiatCurrency(rawValue: 22)
    public static let btn = FiatCurrency(rawValue: 23)
    public static let bwp = FiatCurrency(rawValue: 24)
    public static let byn = FiatCurrency(rawValue: 25)
    public static let bzd = FiatCurrency(rawValue: 26)
    public static let cad = FiatCurrency(rawValue: 27)
    public static let cdf = FiatCurrency(rawValue: 28)
    public static let chf = FiatCurrency(rawValue: 29)
    public static let clp = FiatCurrency(rawValue: 30)
    public static let cny = FiatCurrency(rawValue: 31)
    public static let cop = FiatCurrency(rawValue: 32)
    public static let crc = FiatCurrency(rawValue: 33)
    public static let cup = FiatCurrency(rawValue: 34)
    public static let cve = FiatCurrency(rawValue: 35)
    public static let czk = FiatCurrency(rawValue: 36)
    public static let djf = FiatCurrency(rawValue: 37)
    public static let dkk = FiatCurrency(rawValue: 38)
    public static let dop = FiatCurrency(rawValue: 39)
    public static let dzd = FiatCurrency(rawValue: 40)
    public static let egp = FiatCurrency(rawValue: 41)
    public static let ern = FiatCurrency(rawValue: 42)
    public static let etb = FiatCurrency(rawValue: 43)
    public static let eur = FiatCurrency(rawValue: 44)
    public static let fjd = FiatCurrency(rawValue: 45)
    public static let fkp = FiatCurrency(rawValue: 46)
    public static let fok = FiatCurrency(rawValue: 47)
    public static let gbp = FiatCurrency(rawValue: 48)
    public static let gel = FiatCurrency(rawValue: 49)
    public static let ggp = FiatCurrency(rawValue: 50)
    public static let ghs = FiatCurrency(rawValue: 51)
    public static let gip = FiatCurrency(rawValue: 52)
    public static let gmd = FiatCurrency(rawValue: 53)
    public static let gnf = FiatCurrency(rawValue: 54)
    public static let gtq = FiatCurrency(rawValue: 55)
    public static let gyd = FiatCurrency(rawValue: 56)
    public static let hkd = FiatCurrency(rawValue: 57)
    public static let hnl = FiatCurrency(rawValue: 58)
    public static let hrk = FiatCurrency(rawValue: 59)
    public static let htg = FiatCurrency(rawValue: 60)
    public static let huf = FiatCurrency(rawValue: 61)
    public static let idr = FiatCurrency(rawValue: 62)
    public static let ils = FiatCurrency(rawValue: 63)
    public static let imp = FiatCurrency(rawValue: 64)
    public static let inr = FiatCurrency(rawValue: 65)
    public static let iqd = FiatCurrency(rawValue: 66)
    public static let irr = FiatCurrency(rawValue: 67)
    public static let isk = FiatCurrency(rawValue: 68)
    public static let jep = FiatCurrency(rawValue: 69)
    public static let jmd = FiatCurrency(rawValue: 70)
    public static let jod = FiatCurrency(rawValue: 71)
    public static let jpy = FiatCurrency(rawValue: 72)
    public static let kes = FiatCurrency(rawValue: 73)
    public static let kgs = FiatCurrency(rawValue: 74)
    public static let khr = FiatCurrency(rawValue: 75)
    public static let kid = FiatCurrency(rawValue: 76)
    public static let kmf = FiatCurrency(rawValue: 77)
    public static let krw = FiatCurrency(rawValue: 78)
    public static let kwd = FiatCurrency(rawValue: 79)
    public static let kyd = FiatCurrency(rawValue: 80)
    public static let kzt = FiatCurrency(rawValue: 81)
    public static let lak = FiatCurrency(rawValue: 82)
    public static let lbp = FiatCurrency(rawValue: 83)
    public static let lkr = FiatCurrency(rawValue: 84)
    public static let lrd = FiatCurrency(rawValue: 85)
    public static let lsl = FiatCurrency(rawValue: 86)
    public static let lyd = FiatCurrency(rawValue: 87)
    public static let mad = FiatCurrency(rawValue: 88)
    public static let mdl = FiatCurrency(rawValue: 89)
    public static let mga = FiatCurrency(rawValue: 90)
    public static let mkd = FiatCurrency(rawValue: 91)
    public static let mmk = FiatCurrency(rawValue: 92)
    public static let mnt = FiatCurrency(rawValue: 93)
    public static let mop = FiatCurrency(rawValue: 94)
    public static let mru = FiatCurrency(rawValue: 95)
    public static let mur = FiatCurrency(rawValue: 96)
    public static let mvr = FiatCurrency(rawValue: 97)
    public static let mwk = FiatCurrency(rawValue: 98)
    public static let mxn = FiatCurrency(rawValue: 99)
    public static let myr = FiatCurrency(rawValue: 100)
    public static let mzn = FiatCurrency(rawValue: 101)
    public static let nad = FiatCurrency(rawValue: 102)
    public static let ngn = FiatCurrency(rawValue: 103)
    public static let nio = FiatCurrency(rawValue: 104)
    public static let nok = FiatCurrency(rawValue: 105)
    public static let npr = FiatCurrency(rawValue: 106)
    public static let nzd = FiatCurrency(rawValue: 107)
    public static let omr = FiatCurrency(rawValue: 108)
    public static let pab = FiatCurrency(rawValue: 109)
    public static let pen = FiatCurrency(rawValue: 110)
    public static let pgk = FiatCurrency(rawValue: 111)
    public static let php = FiatCurrency(rawValue: 112)
    public static let pkr = FiatCurrency(rawValue: 113)
    public static let pln = FiatCurrency(rawValue: 114)
    public static let pyg = FiatCurrency(rawValue: 115)
    public static let qar = FiatCurrency(rawValue: 116)
    public static let ron = FiatCurrency(rawValue: 117)
    public static let rsd = FiatCurrency(rawValue: 118)
    public static let rub = FiatCurrency(rawValue: 119)
    public static let rwf = FiatCurrency(rawValue: 120)
    public static let sar = FiatCurrency(rawValue: 121)
    public static let sbd = FiatCurrency(rawValue: 122)
    public static let scr = FiatCurrency(rawValue: 123)
    public static let sdg = FiatCurrency(rawValue: 124)
    public static let sek = FiatCurrency(rawValue: 125)
    public static let sgd = FiatCurrency(rawValue: 126)
    public static let shp = FiatCurrency(rawValue: 127)
    public static let sle = FiatCurrency(rawValue: 128)
    public static let sll = FiatCurrency(rawValue: 129)
    public static let sos = FiatCurrency(rawValue: 130)
    public static let srd = FiatCurrency(rawValue: 131)
    public static let ssp = FiatCurrency(rawValue: 132)
    public static let stn = FiatCurrency(rawValue: 133)
    public static let syp = FiatCurrency(rawValue: 134)
    public static let szl = FiatCurrency(rawValue: 135)
    public static let thb = FiatCurrency(rawValue: 136)
    public static let tjs = FiatCurrency(rawValue: 137)
    public static let tmt = FiatCurrency(rawValue: 138)
    public static let tnd = FiatCurrency(rawValue: 139)
    public static let `top` = FiatCurrency(rawValue: 140)
    public static let `try` = FiatCurrency(rawValue: 141)
    public static let ttd = FiatCurrency(rawValue: 142)
    public static let tvd = FiatCurrency(rawValue: 143)
    public static let twd = FiatCurrency(rawValue: 144)
    public static let tzs = FiatCurrency(rawValue: 145)
    public static let uah = FiatCurrency(rawValue: 146)
    public static let ugx = FiatCurrency(rawValue: 147)
    public static let uyu = FiatCurrency(rawValue: 148)
    public static let uzs = FiatCurrency(rawValue: 149)
    public static let ves = FiatCurrency(rawValue: 150)
    public static let vnd = FiatCurrency(rawValue: 151)
    public static let vuv = FiatCurrency(rawValue: 152)
    public static let wst = FiatCurrency(rawValue: 153)
    public static let xaf = FiatCurrency(rawValue: 154)
    public static let xcd = FiatCurrency(rawValue: 155)
    public static let xcg = FiatCurrency(rawValue: 156)
    public static let xdr = FiatCurrency(rawValue: 157)
    public static let xof = FiatCurrency(rawValue: 158)
    public static let xpf = FiatCurrency(rawValue: 159)
    public static let yer = FiatCurrency(rawValue: 160)
    public static let zar = FiatCurrency(rawValue: 161)
    public static let zmw = FiatCurrency(rawValue: 162)
    public static let zwl = FiatCurrency(rawValue: 163)

    /// Every value docs/WIRE-CONTRACT.md §12.1 lists, in wire order.
    public static let known: [FiatCurrency] = [
        .usd, .aed, .afn, .`all`, .amd, .ang, .aoa, .ars, .aud, .awg, .azn, .bam, .bbd, .bdt, .bgn, .bhd, .bif, .bmd, .bnd, .bob, .brl, .bsd, .btn,
        .bwp, .byn, .bzd, .cad, .cdf, .chf, .clp, .cny, .cop, .crc, .cup, .cve, .czk, .djf, .dkk, .dop, .dzd, .egp, .ern, .etb, .eur, .fjd, .fkp,
        .fok, .gbp, .gel, .ggp, .ghs, .gip, .gmd, .gnf, .gtq, .gyd, .hkd, .hnl, .hrk, .htg, .huf, .idr, .ils, .imp, .inr, .iqd, .irr, .isk, .jep,
        .jmd, .jod, .jpy, .kes, .kgs, .khr, .kid, .kmf, .krw, .kwd, .kyd, .kzt, .lak, .lbp, .lkr, .lrd, .lsl, .lyd, .mad, .mdl, .mga, .mkd, .mmk,
        .mnt, .mop, .mru, .mur, .mvr, .mwk, .mxn, .myr, .mzn, .nad, .ngn, .nio, .nok, .npr, .nzd, .omr, .pab, .pen, .pgk, .php, .pkr, .pln, .pyg,
        .qar, .ron, .rsd, .rub, .rwf, .sar, .sbd, .scr, .sdg, .sek, .sgd, .shp, .sle, .sll, .sos, .srd, .ssp, .stn, .syp, .szl, .thb, .tjs, .tmt,
        .tnd, .`top`, .`try`, .ttd, .tvd, .twd, .tzs, .uah, .ugx, .uyu, .uzs, .ves, .vnd, .vuv, .wst, .xaf, .xcd, .xcg, .xdr, .xof, .xpf, .yer, .zar,
        .zmw, .zwl,
    ]

    public static let names: [Int: String] = [
        1: "USD", 2: "AED", 3: "AFN", 4: "ALL", 5: "AMD", 6: "ANG", 7: "AOA", 8: "ARS", 9: "AUD", 10: "AWG", 11: "AZN", 12: "BAM", 13: "BBD",
        14: "BDT", 15: "BGN", 16: "BHD", 17: "BIF", 18: "BMD", 19: "BND", 20: "BOB", 21: "BRL", 22: "BSD", 23: "BTN", 24: "BWP", 25: "BYN", 26: "BZD",
        27: "CAD", 28: "CDF", 29: "CHF", 30: "CLP", 31: "CNY", 32: "COP", 33: "CRC", 34: "CUP", 35: "CVE", 36: "CZK", 37: "DJF", 38: "DKK", 39: "DOP",
        40: "DZD", 41: "EGP", 42: "ERN", 43: "ETB", 44: "EUR", 45: "FJD", 46: "FKP", 47: "FOK", 48: "GBP", 49: "GEL", 50: "GGP", 51: "GHS", 52: "GIP",
        53: "GMD", 54: "GNF", 55: "GTQ", 56: "GYD", 57: "HKD", 58: "HNL", 59: "HRK", 60: "HTG", 61: "HUF", 62: "IDR", 63: "ILS", 64: "IMP", 65: "INR",
        66: "IQD", 67: "IRR", 68: "ISK", 69: "JEP", 70: "JMD", 71: "JOD", 72: "JPY", 73: "KES", 74: "KGS", 75: "KHR", 76: "KID", 77: "KMF", 78: "KRW",
        79: "KWD", 80: "KYD", 81: "KZT", 82: "LAK", 83: "LBP", 84: "LKR", 85: "LRD", 86: "LSL", 87: "LYD", 88: "MAD", 89: "MDL", 90: "MGA", 91: "MKD",
        92: "MMK", 93: "MNT", 94: "MOP", 95: "MRU", 96: "MUR", 97: "MVR", 98: "MWK", 99: "MXN", 100: "MYR", 101: "MZN", 102: "NAD", 103: "NGN",
        104: "NIO", 105: "NOK", 106: "NPR", 107: "NZD", 108: "OMR", 109: "PAB", 110: "PEN", 111: "PGK", 112: "PHP", 113: "PKR", 114: "PLN",
        115: "PYG", 116: "QAR", 117: "RON", 118: "RSD", 119: "RUB", 120: "RWF", 121: "SAR", 122: "SBD", 123: "SCR", 124: "SDG", 125: "SEK",
        126: "SGD", 127: "SHP", 128: "SLE", 129: "SLL", 130: "SOS", 131: "SRD", 132: "SSP", 133: "STN", 134: "SYP", 135: "SZL", 136: "THB",
        137: "TJS", 138: "TMT", 139: "TND", 140: "TOP", 141: "TRY", 142: "TTD", 143: "TVD", 144: "TWD", 145: "TZS", 146: "UAH", 147: "UGX",
        148: "UYU", 149: "UZS", 150: "VES", 151: "VND", 152: "VUV", 153: "WST", 154: "XAF", 155: "XCD", 156: "XCG", 157: "XDR", 158: "XOF",
        159: "XPF", 160: "YER", 161: "ZAR", 162: "ZMW", 163: "ZWL",
    ]
}
