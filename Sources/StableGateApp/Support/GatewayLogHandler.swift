import Logging

/// swift-log's `StreamLogHandler` output, with metadata that costs nothing until a line is
/// written.
///
/// `StreamLogHandler` renders all of its metadata into text every time one key is set. Every
/// API request sets three keys (request id, store, key) on its logger and, at the default
/// level, usually writes no line at all; that rendering was about 5 % of the server's CPU under
/// a load of signed creates (README "Benchmarks"). Here a set is a dictionary insert, and the
/// metadata is rendered — by the same `StreamLogHandler`, so lines look exactly as before —
/// only for a line that is written.
public struct GatewayLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    /// Writes through `stream` (in `stablegate serve`, `StreamLogHandler.standardError`), whose
    /// own metadata is replaced by this handler's.
    public init(_ stream: StreamLogHandler) {
        self.stream = stream
        self.metadata = stream.metadata
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer = stream
        writer.metadata = metadata
        writer.log(event: event)
    }
}
