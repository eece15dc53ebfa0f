import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import StableGateDomain
import Synchronization

/// How to reach the mail server.
public struct SMTPConfiguration: Sendable, Equatable {
    public enum Security: String, Sendable, CaseIterable {
        /// Plain connection upgraded with STARTTLS (port 587); refuses servers that don't offer it.
        case starttls
        /// TLS from the first byte (port 465).
        case tls
        /// No encryption at all: only for a relay on the same host or a test server.
        case none
    }

    public var host: String
    public var port: Int = 587
    public var security: Security = .starttls
    public var username: String?
    public var password: String?
    /// The sender address (`MAIL FROM` and `From`).
    public var from: String
    public var fromName: String = "StableGate"
    /// The name given in `EHLO`.
    public var heloName: String = "stablegate.localhost"
    /// Seconds for connecting and for each reply.
    public var timeout: TimeInterval = 30
    /// A PEM file of extra certificate authorities to trust (a private or test CA).
    public var caFile: String?

    public init(host: String, from: String) {
        self.host = host
        self.from = from
    }
}

/// Why a send failed. `permanent` (a 5xx reply) is not worth retrying; everything else is.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public let permanent: Bool
    public let description: String
}

/// A small SMTP client (RFC 5321): EHLO, STARTTLS or implicit TLS with certificate and host
/// name verification, AUTH PLAIN or LOGIN, one message to its recipients, QUIT — each step
/// under the configured timeout.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    /// Sends `data` (a rendered message, not yet dot-stuffed) to `recipients`.
    public func send(_ data: String, to recipients: [String]) async throws {
        let sender = configuration.from
        try await session { session in try await Self.deliver(data, from: sender, to: recipients, in: &session) }
    }

    /// Connects, greets, secures and logs in exactly as ``send(_:to:)`` does, then says QUIT
    /// without sending anything (`stablegate doctor`). Returns what was proven, for people.
    public func verifyLogin() async throws -> String {
        let configuration = self.configuration
        try await session { session in _ = try? await session.send("QUIT") }
        let secured = configuration.security == .none ? "unencrypted" : configuration.security.rawValue.uppercased()
        let login = configuration.username == nil || configuration.password == nil ? "no login configured" : "logged in as the configured user"
        return "\(configuration.host):\(configuration.port) answered over \(secured), \(login)"
    }

    /// Opens a connection, runs the conversation up to and including AUTH, then `body`.
    private func session(_ body: @escaping @Sendable (inout SMTPSession) async throws -> Void) async throws {
        let configuration = self.configuration
        let tls = try Self.tlsContext(configuration)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(configuration.timeout * 1000)))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if configuration.security == .tls {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: Self.sniName(configuration.host)))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(permanent: false, description: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        do {
            try await converse(over: channel, tls: tls, then: body)
        } catch let error as SMTPError {
            throw error
        } catch {
            // The channel closed under us (a failed TLS handshake, a reset): worth another try.
            throw SMTPError(permanent: false, description: "the connection to \(configuration.host):\(configuration.port) failed: \(error)")
        }
    }

    private func converse(
        over channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, tls: NIOSSLContext, then body: @Sendable (inout SMTPSession) async throws -> Void
    ) async throws {
        let configuration = self.configuration
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(
                lines: inbound.makeAsyncIterator(), outbound: outbound, channel: channel.channel, timeout: configuration.timeout)
            try await session.expect(220, after: nil)
            var capabilities = try await session.ehlo(configuration.heloName)
            if configuration.security == .starttls {
                guard capabilities.contains("STARTTLS") else {
                    throw SMTPError(permanent: false, description: "\(configuration.host) does not offer STARTTLS; refusing to send in the clear")
                }
                try await session.command("STARTTLS", expect: 220)
                try await channel.channel.pipeline.addHandler(
                    try NIOSSLClientHandler(context: tls, serverHostname: Self.sniName(configuration.host)), position: .first)
                capabilities = try await session.ehlo(configuration.heloName)
            }
            if let username = configuration.username, let password = configuration.password {
                let auth = capabilities.first { $0.hasPrefix("AUTH") }?.split(separator: " ").map { String($0).uppercased() } ?? []
                if auth.contains("PLAIN") {
                    let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                    try await session.command("AUTH PLAIN " + token, expect: 235, redacted: "AUTH PLAIN ***")
                } else if auth.contains("LOGIN") {
                    try await session.command("AUTH LOGIN", expect: 334)
                    try await session.command(Data(username.utf8).base64EncodedString(), expect: 334, redacted: "(user name)")
                    try await session.command(Data(password.utf8).base64EncodedString(), expect: 235, redacted: "(password)")
                } else {
                    throw SMTPError(
                        permanent: true, description: "\(configuration.host) offers no AUTH PLAIN or LOGIN (it said: \(auth.joined(separator: " ")))")
                }
            }
            try await body(&session)
        }
    }

    /// The envelope and the message, on a session that is logged in.
    private static func deliver(_ data: String, from sender: String, to recipients: [String], in session: inout SMTPSession) async throws {
        try await session.command("MAIL FROM:<\(sender)>", expect: 250)
        var accepted = 0
        var refusals: [String] = []
        for recipient in recipients {
            let reply = try await session.send("RCPT TO:<\(recipient)>")
            if reply.code == 250 || reply.code == 251 { accepted += 1 } else { refusals.append("\(recipient): \(reply.code) \(reply.text)") }
        }
        guard accepted > 0 else {
            throw SMTPError(permanent: true, description: "every recipient was refused: " + refusals.joined(separator: "; "))
        }
        try await session.command("DATA", expect: 354)
        var body = SMTPDotStuffing.apply(data)
        if !body.hasSuffix("\r\n") { body += "\r\n" }
        try await session.write(body + ".\r\n")
        try await session.expect(250, after: "the message")
        _ = try? await session.send("QUIT")
    }

    private static func sniName(_ host: String) -> String? {
        OutboundAddressPolicy.literal(host) == nil ? host : nil  // SNI carries names, never addresses
    }

    private static func tlsContext(_ configuration: SMTPConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        }
        return try NIOSSLContext(configuration: tls)
    }
}

/// One SMTP conversation over a line-framed channel.
private struct SMTPSession {
    struct Reply {
        let code: Int
        let lines: [String]
        var text: String { lines.joined(separator: " / ") }
    }

    var lines: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    let timeout: TimeInterval

    mutating func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads one (possibly multi-line) reply. A watchdog closes the connection when a line
    /// takes longer than the timeout, which ends the wait.
    mutating func reply() async throws -> Reply {
        var collected: [String] = []
        while true {
            let timedOut = Mutex(false)
            let channel = self.channel
            let watchdog = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
                timedOut.withLock { $0 = true }
                channel.close(promise: nil)
            }
            let line: ByteBuffer?
            do {
                line = try await lines.next()
                watchdog.cancel()
            } catch {
                watchdog.cancel()
                if timedOut.withLock({ $0 }) { throw SMTPError(permanent: false, description: "no reply within \(Int(timeout)) s") }
                throw SMTPError(permanent: false, description: "the connection failed: \(error)")
            }
            guard let line else {
                if timedOut.withLock({ $0 }) { throw SMTPError(permanent: false, description: "no reply within \(Int(timeout)) s") }
                throw SMTPError(permanent: false, description: "the server closed the connection")
            }
            let text = String(buffer: line)
            guard text.count >= 3, let code = Int(text.prefix(3)) else {
                throw SMTPError(permanent: false, description: "not an SMTP reply: \(text.prefix(80))")
            }
            collected.append(String(text.dropFirst(4)))
            if text.count == 3 || text[text.index(text.startIndex, offsetBy: 3)] == " " { return Reply(code: code, lines: collected) }
        }
    }

    mutating func send(_ command: String) async throws -> Reply {
        try await write(command + "\r\n")
        return try await reply()
    }

    /// Sends a command and requires reply `code`; 5xx replies are permanent failures.
    mutating func command(_ command: String, expect code: Int, redacted: String? = nil) async throws {
        let reply = try await send(command)
        guard reply.code == code else { throw Self.failure(reply, after: redacted ?? command) }
    }

    mutating func expect(_ code: Int, after what: String?) async throws {
        let reply = try await reply()
        guard reply.code == code else { throw Self.failure(reply, after: what ?? "connecting") }
    }

    /// EHLO, returning the capability lines (upper-cased).
    mutating func ehlo(_ name: String) async throws -> [String] {
        let reply = try await send("EHLO " + name)
        guard reply.code == 250 else { throw Self.failure(reply, after: "EHLO") }
        return reply.lines.dropFirst().map { $0.uppercased() }
    }

    static func failure(_ reply: Reply, after what: String) -> SMTPError {
        SMTPError(permanent: (500...599).contains(reply.code), description: "after \(what) the server said \(reply.code) \(reply.text)")
    }
}

/// Splits the byte stream into lines, without their CRLF.
private struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 64 * 1024 { throw SMTPError(permanent: false, description: "an SMTP reply line is longer than 64 KB") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
