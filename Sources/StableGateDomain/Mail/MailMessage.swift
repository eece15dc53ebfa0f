import Foundation

/// An e-mail as RFC 5322 / MIME text: a plain-text and an HTML part (multipart/alternative)
/// and any attachments (multipart/mixed). Bodies are base64 so any UTF-8 survives any relay;
/// non-ASCII subjects are RFC 2047 encoded words. Lines end in CRLF.
public struct MailMessage: Sendable, Equatable {
    public struct Attachment: Sendable, Equatable {
        public let filename: String
        public let contentType: String
        public let data: [UInt8]

        public init(filename: String, contentType: String, data: [UInt8]) {
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    public var from: String
    /// Display name for `From`, e.g. "StableGate".
    public var fromName: String?
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String
    public var attachments: [Attachment]
    /// Without angle brackets, e.g. `6a5f…@stablegate.example`. Stable per outbox row, so a
    /// resent copy can be recognised as the same message.
    public var messageId: String
    public var date: Date

    public init(
        from: String, fromName: String? = nil, to: [String], subject: String, text: String, html: String, attachments: [Attachment] = [],
        messageId: String, date: Date
    ) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.messageId = messageId
        self.date = date
    }

    /// The whole message, ready for SMTP `DATA` (before dot-stuffing).
    public func rendered(boundarySeed: String) -> String {
        var lines: [String] = []
        lines.append("Date: " + Self.rfc5322Date(date))
        lines.append("From: " + (fromName.map { Self.encodedWord($0) + " <\(from)>" } ?? from))
        lines.append("To: " + to.joined(separator: ", "))
        lines.append("Subject: " + Self.encodedWord(subject))
        lines.append("Message-ID: <\(messageId)>")
        lines.append("MIME-Version: 1.0")
        let alternative = "alt-" + boundarySeed
        var body: [String] = []
        body.append("Content-Type: multipart/alternative; boundary=\"\(alternative)\"")
        body.append("")
        body.append("--" + alternative)
        body += Self.part(contentType: "text/plain; charset=utf-8", data: Array(text.utf8))
        body.append("--" + alternative)
        body += Self.part(contentType: "text/html; charset=utf-8", data: Array(html.utf8))
        body.append("--" + alternative + "--")
        if attachments.isEmpty {
            lines += body
        } else {
            let mixed = "mix-" + boundarySeed
            lines.append("Content-Type: multipart/mixed; boundary=\"\(mixed)\"")
            lines.append("")
            lines.append("--" + mixed)
            lines += body
            for attachment in attachments {
                lines.append("--" + mixed)
                lines += Self.part(
                    contentType: "\(attachment.contentType); name=\"\(attachment.filename)\"", data: attachment.data,
                    disposition: "attachment; filename=\"\(attachment.filename)\"")
            }
            lines.append("--" + mixed + "--")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func part(contentType: String, data: [UInt8], disposition: String? = nil) -> [String] {
        var lines = ["Content-Type: " + contentType, "Content-Transfer-Encoding: base64"]
        if let disposition { lines.append("Content-Disposition: " + disposition) }
        lines.append("")
        let encoded = Data(data).base64EncodedString()
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let next = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<next]))
            index = next
        }
        return lines
    }

    /// The text as is when it is printable ASCII, else an RFC 2047 `=?UTF-8?B?…?=` word.
    static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }

    /// `Sat, 21 Nov 2026 12:00:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let time = seconds - days * 86_400
        let (year, month, day) = UTCTimestamp.civilDate(daysSince1970: days)
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
        let monthName = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Int(month) - 1]
        let pad = { (value: Int64) in value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(day) \(monthName) \(year) \(pad(time / 3600)):\(pad(time % 3600 / 60)):\(pad(time % 60)) +0000"
    }
}

/// SMTP's transparency rule (RFC 5321 §4.5.2): a line that starts with `.` gets another one,
/// so no line of the message can end the `DATA` section early.
public enum SMTPDotStuffing {
    public static func apply(_ message: String) -> String {
        var output = ""
        output.reserveCapacity(message.utf8.count + 16)
        var atLineStart = true
        for character in message {
            if atLineStart && character == "." { output.append(".") }
            output.append(character)
            atLineStart = character == "\r\n" || character == "\n"
        }
        return output
    }
}
