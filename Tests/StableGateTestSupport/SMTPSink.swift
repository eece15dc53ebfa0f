import Foundation

/// A real SMTP server (tools/smtp-sink, aiosmtpd) for one test: STARTTLS with a throwaway CA,
/// AUTH, failure modes; accepted messages land in a directory. Needs `STABLEGATE_TEST_PYTHON`.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    /// The CA that signed the server's certificate (with `tls`).
    public let caFile: String?
    public let maildir: String
    private let process: Process

    private static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// One received message: its raw text and envelope.
    public struct Message: Sendable {
        public let raw: String
        public let mailFrom: String
        public let recipients: [String]
        public let tls: Bool
        public let authenticated: Bool
    }

    public static func start(
        tls: Bool = true, implicitTLS: Bool = false, auth: String? = "stablegate:sink-password", failFirst: Int = 0, reject: Bool = false,
        silent: Bool = false
    ) throws -> SMTPSink {
        guard let python = ProcessInfo.processInfo.environment["STABLEGATE_TEST_PYTHON"], !python.isEmpty else {
            throw TestSetupError("STABLEGATE_TEST_PYTHON is not set; run the README's test command (it creates .venv with aiosmtpd)")
        }
        let maildir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-mail-\(UUID().uuidString.prefix(8))").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        var arguments = [repositoryRoot.appendingPathComponent("tools/smtp-sink/smtp_sink.py").path, "--maildir", maildir, "--exit-with-parent"]
        if implicitTLS { arguments.append("--implicit-tls") } else if tls { arguments.append("--tls") }
        if let auth { arguments += ["--auth", auth] }
        if failFirst > 0 { arguments += ["--fail-first", String(failFirst)] }
        if reject { arguments.append("--reject") }
        if silent { arguments.append("--silent") }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        guard let line = output.fileHandleForReading.readLine(),
            let ready = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let port = ready["port"] as? Int
        else {
            process.terminate()
            throw TestSetupError("the SMTP sink did not start")
        }
        return SMTPSink(process: process, port: port, caFile: ready["ca_file"] as? String, maildir: maildir)
    }

    private init(process: Process, port: Int, caFile: String?, maildir: String) {
        self.process = process
        self.port = port
        self.caFile = caFile
        self.maildir = maildir
    }

    /// The messages received so far, in order.
    public func messages() throws -> [Message] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            let raw = try String(contentsOfFile: maildir + "/" + name, encoding: .utf8)
            let envelope =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: maildir + "/" + name.replacingOccurrences(of: ".eml", with: ".json"))))
                as! [String: Any]
            return Message(
                raw: raw, mailFrom: envelope["mail_from"] as! String, recipients: envelope["rcpt_tos"] as! [String], tls: envelope["tls"] as! Bool,
                authenticated: envelope["authenticated"] as! Bool)
        }
    }

    /// Stops the server. The sink exits at once on SIGTERM; this waits a moment for that but never
    /// blocks on `waitUntilExit`, whose wake-up goes through the run loop of the thread that
    /// launched the process — with several sinks in parallel test tasks that can wait forever.
    public func stop() {
        process.terminate()
        let pid = process.processIdentifier
        for _ in 0..<300 where process.isRunning && !Self.hasExited(pid) { usleep(10_000) }
        try? FileManager.default.removeItem(atPath: maildir)
    }

    /// Whether `pid` is gone or a zombie waiting to be reaped (Linux /proc).
    private static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

extension FileHandle {
    /// One line of output (without its newline), or nil at the end.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}

/// Reads MIME messages the way a mail client would, enough for tests: headers, decoded
/// base64 parts by content type, attachments by file name.
public struct ParsedMail: Sendable {
    public let headers: [String: String]
    /// (content type, content disposition, decoded body)
    public let parts: [(type: String, disposition: String?, body: [UInt8])]

    public init(_ raw: String) {
        let (headers, body) = Self.split(raw)
        self.headers = headers
        var parts: [(String, String?, [UInt8])] = []
        Self.collect(headers: headers, body: body, into: &parts)
        self.parts = parts
    }

    public var subject: String { Self.decodeWord(headers["subject"] ?? "") }
    public var text: String? { parts.first { $0.type.hasPrefix("text/plain") }.map { String(decoding: $0.body, as: UTF8.self) } }
    public var html: String? { parts.first { $0.type.hasPrefix("text/html") }.map { String(decoding: $0.body, as: UTF8.self) } }

    public func attachment(named name: String) -> [UInt8]? {
        parts.first { $0.disposition?.contains("filename=\"\(name)\"") == true }?.body
    }

    private static func split(_ raw: String) -> ([String: String], String) {
        let normalized = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let pieces = normalized.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        var last: String?
        for line in pieces[0].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " || line.first == "\t", let last {
                headers[last, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            last = name
        }
        return (headers, pieces.dropFirst().joined(separator: "\n\n"))
    }

    private static func collect(headers: [String: String], body: String, into parts: inout [(String, String?, [UInt8])]) {
        let type = headers["content-type"] ?? "text/plain"
        if type.hasPrefix("multipart/"), let range = type.range(of: "boundary=\"") {
            let boundary = String(type[range.upperBound...].prefix { $0 != "\"" })
            for section in body.components(separatedBy: "--" + boundary).dropFirst() where !section.hasPrefix("--") {
                let trimmed = section.hasPrefix("\n") ? String(section.dropFirst()) : section
                let (partHeaders, partBody) = split(trimmed)
                collect(headers: partHeaders, body: partBody, into: &parts)
            }
            return
        }
        let encoded = body.replacingOccurrences(of: "\n", with: "")
        let decoded =
            headers["content-transfer-encoding"]?.lowercased() == "base64" ? Array(Data(base64Encoded: encoded) ?? Data()) : Array(body.utf8)
        parts.append((type, headers["content-disposition"], decoded))
    }

    private static func decodeWord(_ text: String) -> String {
        guard text.hasPrefix("=?UTF-8?B?"), text.hasSuffix("?="),
            let data = Data(base64Encoded: String(text.dropFirst(10).dropLast(2)))
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}
