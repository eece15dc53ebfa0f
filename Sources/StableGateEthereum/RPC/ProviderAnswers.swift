import Foundation

/// What a failed RPC attempt means for the next one, read from the error the provider gave.
/// Providers word the same limits differently; these are the answers of the common ones
/// (Alchemy, Infura, QuickNode, Ankr, public BSC/Base/Polygon nodes, geth, Erigon), matched by
/// their stable parts.
public enum RPCFailureKind: Sendable, Equatable {
    /// Slow down: HTTP 429, or a JSON-RPC "limit exceeded" / rate answer. Back off for
    /// `retryAfterSeconds` when the provider said how long.
    case rateLimited(retryAfterSeconds: Int?)
    /// The `eth_getLogs` range (or its result) was too big; `maximumBlocks` when the provider
    /// said what would work.
    case rangeTooWide(maximumBlocks: Int?)
    /// Anything else: a node error, a transport failure, a malformed answer.
    case other
}

public enum ProviderAnswers {
    /// Classifies `error` (usually a ``JSONRPCError``).
    public static func classify(_ error: any Error) -> RPCFailureKind {
        guard let error = error as? JSONRPCError else { return .other }
        switch error {
        case .rateLimited(let seconds, _):
            return .rateLimited(retryAfterSeconds: seconds)
        case .node(let code, let message):
            let text = message.lowercased()
            if isRangeLimit(text) { return .rangeTooWide(maximumBlocks: suggestedBlocks(text)) }
            if code == -32005 || code == 429 || text.contains("rate limit") || text.contains("too many requests")
                || text.contains("limit exceeded") || text.contains("request count exceeded") || text.contains("capacity")
            {
                return .rateLimited(retryAfterSeconds: nil)
            }
            return .other
        case .transport, .unexpectedResult:
            return .other
        }
    }

    /// Whether a (lower-cased) message says the log query was too wide or too big.
    static func isRangeLimit(_ text: String) -> Bool {
        let phrases = [
            "block range", "blocks range", "range too", "range is too", "range limit", "max range", "maximum range", "range exceeds",
            "exceed maximum block", "exceeds max block", "too many blocks", "range too large", "range too big", "requested range",
            "query returned more than", "log response size exceeded", "response size exceeded", "too many logs", "more than 10000 results",
            "is limited to a", "ranges over", "limited to 1", "block range greater than",
        ]
        return phrases.contains { text.contains($0) }
    }

    /// The range a provider says would work, in blocks: Alchemy's "this block range should work:
    /// [0x.., 0x..]", or the number in "limited to a 10,000 range", "max block range 5000",
    /// "up to a 2K block range", "max range: 100". nil when it names none (then halve).
    static func suggestedBlocks(_ text: String) -> Int? {
        // [0xA, 0xB]: B - A + 1 blocks.
        if let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") {
            let parts = text[text.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let from = hexNumber(parts[0]), let to = hexNumber(parts[1]), to >= from {
                return Int(clamping: to - from + 1)
            }
        }
        // "results"/"logs" counts are not block counts: only a number said of a range or blocks.
        guard text.contains("range") || text.contains("block") else { return nil }
        var best: Int?
        var digits = ""
        var index = text.startIndex
        func flush(suffix: Character?) {
            defer { digits = "" }
            guard !digits.isEmpty, var value = Int(digits) else { return }
            if suffix == "k" { value *= 1000 }
            // A word after the number that counts results, not blocks, disqualifies it.
            let rest = text[index...].drop { $0 == " " || $0 == "k" }
            if rest.hasPrefix("result") || rest.hasPrefix("log") { return }
            if value > 0, best == nil { best = value }
        }
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if character == ",", !digits.isEmpty, text.index(after: index) < text.endIndex, text[text.index(after: index)].isNumber {
                // a thousands separator
            } else if !digits.isEmpty {
                let isHex = digits == "0" && character == "x"
                if isHex {
                    // a hex quantity (a block number), not a count
                    while index < text.endIndex, text[index].isHexDigit || text[index] == "x" { index = text.index(after: index) }
                    digits = ""
                    continue
                }
                flush(suffix: character == "k" ? "k" : nil)
            }
            index = text.index(after: index)
        }
        flush(suffix: nil)
        return best
    }

    static func hexNumber(_ text: String) -> UInt64? {
        guard text.hasPrefix("0x") else { return nil }
        return UInt64(text.dropFirst(2), radix: 16)
    }
}

/// The adaptive `eth_getLogs` window of one chain: narrowed when a provider refuses a range
/// (to what it says works, else by half), widened again (doubling) after consecutive
/// successes, never below one block and never above the configured `max_log_range`.
public struct LogRangeWindow: Sendable, Equatable {
    /// The configured `max_log_range`.
    public let ceiling: Int
    /// The width asked for now.
    public private(set) var current: Int
    private var successes = 0
    /// Successes in a row that earn a wider window.
    public static let successesToWiden = 3

    public init(ceiling: Int) {
        self.ceiling = max(1, ceiling)
        self.current = self.ceiling
    }

    /// A range of `width` blocks failed with `failure`. Returns true when the window changed.
    @discardableResult
    public mutating func failed(width: Int, with failure: RPCFailureKind) -> Bool {
        successes = 0
        let before = current
        switch failure {
        case .rateLimited:
            return false  // not the range's fault
        case .rangeTooWide(let suggested?) where suggested < width:
            current = max(1, suggested)
        case .rangeTooWide, .other:
            // Unknown errors of a wide range are often size limits in disguise (timeouts, 502s).
            guard width > 1 else { return false }
            current = max(1, min(current, width / 2))
        }
        return current != before
    }

    /// A range of `width` blocks succeeded.
    public mutating func succeeded(width: Int) {
        guard current < ceiling else { return }
        // Only a full-width success says the current width works.
        guard width >= current else { return }
        successes += 1
        if successes >= Self.successesToWiden {
            successes = 0
            current = min(ceiling, current * 2)
        }
    }
}
