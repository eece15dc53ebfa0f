// AllScale's Appendix A (docs/WIRE-CONTRACT.md §12.1): the fiat currency IntEnum.
// Transcribed value by value from that table; `FiatCurrencyTests` checks count, codes and round trips.

/// A fiat currency as the AllScale Open API numbers it (docs/WIRE-CONTRACT.md §12.1). The raw value is the wire value.
public enum FiatCurrency: Int, CaseIterable, Sendable, Hashable, Codable {
    case usd = 1
    case aed = 2
    case afn = 3
    case `all` = 4
    case amd = 5
    case ang = 6
    case aoa = 7
    case ars = 8
    case aud = 9
    case awg = 10
    case azn = 11
    case bam = 12
    case bbd = 13
    case bdt = 14
    case bgn = 15
    case bhd = 16
    case bif = 17
    case bmd = 18
    case bnd = 19
    case bob = 20
    case brl = 21
    case bsd = 22
    case btn = 23
    case bwp = 24
    case byn = 25
    case bzd = 26
    case cad = 27
    case cdf = 28
    case chf = 29
    case clp = 30
    case cny = 31
    case cop = 32
    case crc = 33
    case cup = 34
    case cve = 35
    case czk = 36
    case djf = 37
    case dkk = 38
    case dop = 39
    case dzd = 40
    case egp = 41
    case ern = 42
    case etb = 43
    case eur = 44
    case fjd = 45
    case fkp = 46
    case fok = 47
    case gbp = 48
    case gel = 49
    case ggp = 50
    case ghs = 51
    case gip = 52
    case gmd = 53
    case gnf = 54
    case gtq = 55
    case gyd = 56
    case hkd = 57
    case hnl = 58
    case hrk = 59
    case htg = 60
    case huf = 61
    case idr = 62
    case ils = 63
    case imp = 64
    case inr = 65
    case iqd = 66
    case irr = 67
    case isk = 68
    case jep = 69
    case jmd = 70
    case jod = 71
    case jpy = 72
    case kes = 73
    case kgs = 74
    case khr = 75
    case kid = 76
    case kmf = 77
    case krw = 78
    case kwd = 79
    case kyd = 80
    case kzt = 81
    case lak = 82
    case lbp = 83
    case lkr = 84
    case lrd = 85
    case lsl = 86
    case lyd = 87
    case mad = 88
    case mdl = 89
    case mga = 90
    case mkd = 91
    case mmk = 92
    case mnt = 93
    case mop = 94
    case mru = 95
    case mur = 96
    case mvr = 97
    case mwk = 98
    case mxn = 99
    case myr = 100
    case mzn = 101
    case nad = 102
    case ngn = 103
    case nio = 104
    case nok = 105
    case npr = 106
    case nzd = 107
    case omr = 108
    case pab = 109
    case pen = 110
    case pgk = 111
    case php = 112
    case pkr = 113
    case pln = 114
    case pyg = 115
    case qar = 116
    case ron = 117
    case rsd = 118
    case rub = 119
    case rwf = 120
    case sar = 121
    case sbd = 122
    case scr = 123
    case sdg = 124
    case sek = 125
    case sgd = 126
    case shp = 127
    case sle = 128
    case sll = 129
    case sos = 130
    case srd = 131
    case ssp = 132
    case stn = 133
    case syp = 134
    case szl = 135
    case thb = 136
    case tjs = 137
    case tmt = 138
    case tnd = 139
    case top = 140
    case `try` = 141
    case ttd = 142
    case tvd = 143
    case twd = 144
    case tzs = 145
    case uah = 146
    case ugx = 147
    case uyu = 148
    case uzs = 149
    case ves = 150
    case vnd = 151
    case vuv = 152
    case wst = 153
    case xaf = 154
    case xcd = 155
    case xcg = 156
    case xdr = 157
    case xof = 158
    case xpf = 159
    case yer = 160
    case zar = 161
    case zmw = 162
    case zwl = 163

    /// ISO 4217-style code as printed in docs/WIRE-CONTRACT.md §12.1, e.g. `USD`.
    public var code: String { Self.table[rawValue - 1].code }
    /// English name as printed in docs/WIRE-CONTRACT.md §12.1, e.g. `US Dollar`.
    public var name: String { Self.table[rawValue - 1].name }

    /// Looks a currency up by its code (case-insensitive).
    public init?(code: String) {
        guard let index = Self.table.firstIndex(where: { $0.code == code.uppercased() }) else { return nil }
        self.init(rawValue: index + 1)
    }

    private static let table: [(code: String, name: String)] = [
        ("USD", "US Dollar"),
        ("AED", "United Arab Emirates Dirham"),
        ("AFN", "Afghan Afghani"),
        ("ALL", "Albanian Lek"),
        ("AMD", "Armenian Dram"),
        ("ANG", "Netherlands Antillean Guilder"),
        ("AOA", "Angolan Kwanza"),
        ("ARS", "Argentine Peso"),
        ("AUD", "Australian Dollar"),
        ("AWG", "Aruban Florin"),
        ("AZN", "Azerbaijani Manat"),
        ("BAM", "Bosnia and Herzegovina Convertible Mark"),
        ("BBD", "Barbadian Dollar"),
        ("BDT", "Bangladeshi Taka"),
        ("BGN", "Bulgarian Lev"),
        ("BHD", "Bahraini Dinar"),
        ("BIF", "Burundian Franc"),
        ("BMD", "Bermudian Dollar"),
        ("BND", "Brunei Dollar"),
        ("BOB", "Bolivian Boliviano"),
        ("BRL", "Brazilian Real"),
        ("BSD", "Bahamian Dollar"),
        ("BTN", "Bhutanese Ngultrum"),
        ("BWP", "Botswanan Pula"),
        ("BYN", "Belarusian Ruble"),
        ("BZD", "Belize Dollar"),
        ("CAD", "Canadian Dollar"),
        ("CDF", "Congolese Franc"),
        ("CHF", "Swiss Franc"),
        ("CLP", "Chilean Peso"),
        ("CNY", "Chinese Yuan"),
        ("COP", "Colombian Peso"),
        ("CRC", "Costa Rican Colón"),
        ("CUP", "Cuban Peso"),
        ("CVE", "Cape Verdean Escudo"),
        ("CZK", "Czech Koruna"),
        ("DJF", "Djiboutian Franc"),
        ("DKK", "Danish Krone"),
        ("DOP", "Dominican Peso"),
        ("DZD", "Algerian Dinar"),
        ("EGP", "Egyptian Pound"),
        ("ERN", "Eritrean Nakfa"),
        ("ETB", "Ethiopian Birr"),
        ("EUR", "Euro"),
        ("FJD", "Fijian Dollar"),
        ("FKP", "Falkland Islands Pound"),
        ("FOK", "Faroese Króna"),
        ("GBP", "British Pound"),
        ("GEL", "Georgian Lari"),
        ("GGP", "Guernsey Pound"),
        ("GHS", "Ghanaian Cedi"),
        ("GIP", "Gibraltar Pound"),
        ("GMD", "Gambian Dalasi"),
        ("GNF", "Guinean Franc"),
        ("GTQ", "Guatemalan Quetzal"),
        ("GYD", "Guyanese Dollar"),
        ("HKD", "Hong Kong Dollar"),
        ("HNL", "Honduran Lempira"),
        ("HRK", "Croatian Kuna"),
        ("HTG", "Haitian Gourde"),
        ("HUF", "Hungarian Forint"),
        ("IDR", "Indonesian Rupiah"),
        ("ILS", "Israeli New Shekel"),
        ("IMP", "Isle of Man Pound"),
        ("INR", "Indian Rupee"),
        ("IQD", "Iraqi Dinar"),
        ("IRR", "Iranian Rial"),
        ("ISK", "Icelandic Króna"),
        ("JEP", "Jersey Pound"),
        ("JMD", "Jamaican Dollar"),
        ("JOD", "Jordanian Dinar"),
        ("JPY", "Japanese Yen"),
        ("KES", "Kenyan Shilling"),
        ("KGS", "Kyrgyzstani Som"),
        ("KHR", "Cambodian Riel"),
        ("KID", "Kiribati Dollar"),
        ("KMF", "Comorian Franc"),
        ("KRW", "South Korean Won"),
        ("KWD", "Kuwaiti Dinar"),
        ("KYD", "Cayman Islands Dollar"),
        ("KZT", "Kazakhstani Tenge"),
        ("LAK", "Lao Kip"),
        ("LBP", "Lebanese Pound"),
        ("LKR", "Sri Lankan Rupee"),
        ("LRD", "Liberian Dollar"),
        ("LSL", "Lesotho Loti"),
        ("LYD", "Libyan Dinar"),
        ("MAD", "Moroccan Dirham"),
        ("MDL", "Moldovan Leu"),
        ("MGA", "Malagasy Ariary"),
        ("MKD", "Macedonian Denar"),
        ("MMK", "Myanmar Kyat"),
        ("MNT", "Mongolian Tögrög"),
        ("MOP", "Macanese Pataca"),
        ("MRU", "Mauritanian Ouguiya"),
        ("MUR", "Mauritian Rupee"),
        ("MVR", "Maldivian Rufiyaa"),
        ("MWK", "Malawian Kwacha"),
        ("MXN", "Mexican Peso"),
        ("MYR", "Malaysian Ringgit"),
        ("MZN", "Mozambican Metical"),
        ("NAD", "Namibian Dollar"),
        ("NGN", "Nigerian Naira"),
        ("NIO", "Nicaraguan Córdoba"),
        ("NOK", "Norwegian Krone"),
        ("NPR", "Nepalese Rupee"),
        ("NZD", "New Zealand Dollar"),
        ("OMR", "Omani Rial"),
        ("PAB", "Panamanian Balboa"),
        ("PEN", "Peruvian Sol"),
        ("PGK", "Papua New Guinean Kina"),
        ("PHP", "Philippine Peso"),
        ("PKR", "Pakistani Rupee"),
        ("PLN", "Polish Złoty"),
        ("PYG", "Paraguayan Guaraní"),
        ("QAR", "Qatari Riyal"),
        ("RON", "Romanian Leu"),
        ("RSD", "Serbian Dinar"),
        ("RUB", "Russian Ruble"),
        ("RWF", "Rwandan Franc"),
        ("SAR", "Saudi Riyal"),
        ("SBD", "Solomon Islands Dollar"),
        ("SCR", "Seychellois Rupee"),
        ("SDG", "Sudanese Pound"),
        ("SEK", "Swedish Krona"),
        ("SGD", "Singapore Dollar"),
        ("SHP", "Saint Helena Pound"),
        ("SLE", "Sierra Leonean Leone (new)"),
        ("SLL", "Sierra Leonean Leone (old)"),
        ("SOS", "Somali Shilling"),
        ("SRD", "Surinamese Dollar"),
        ("SSP", "South Sudanese Pound"),
        ("STN", "São Tomé and Príncipe Dobra"),
        ("SYP", "Syrian Pound"),
        ("SZL", "Swazi Lilangeni"),
        ("THB", "Thai Baht"),
        ("TJS", "Tajikistani Somoni"),
        ("TMT", "Turkmenistani Manat"),
        ("TND", "Tunisian Dinar"),
        ("TOP", "Tongan Paʻanga"),
        ("TRY", "Turkish Lira"),
        ("TTD", "Trinidad and Tobago Dollar"),
        ("TVD", "Tuvaluan Dollar"),
        ("TWD", "New Taiwan Dollar"),
        ("TZS", "Tanzanian Shilling"),
        ("UAH", "Ukrainian Hryvnia"),
        ("UGX", "Ugandan Shilling"),
        ("UYU", "Uruguayan Peso"),
        ("UZS", "Uzbekistani Som"),
        ("VES", "Venezuelan Bolívar"),
        ("VND", "Vietnamese Dong"),
        ("VUV", "Vanuatu Vatu"),
        ("WST", "Samoan Tālā"),
        ("XAF", "Central African CFA Franc"),
        ("XCD", "East Caribbean Dollar"),
        ("XCG", "Caribbean Guilder"),
        ("XDR", "IMF Special Drawing Rights"),
        ("XOF", "West African CFA Franc"),
        ("XPF", "CFP Franc"),
        ("YER", "Yemeni Rial"),
        ("ZAR", "South African Rand"),
        ("ZMW", "Zambian Kwacha"),
        ("ZWL", "Zimbabwe Dollar"),
    ]
}
