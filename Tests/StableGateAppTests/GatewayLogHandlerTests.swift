import Logging
import StableGateApp
import Synchronization
import Testing

@Suite("Log lines")
struct GatewayLogHandlerTests {
    /// Collects what a handler writes.
    final class Capture: Sendable {
        let text = Mutex("")
    }

    struct CaptureStream: TextOutputStream, Sendable {
        let capture: Capture
        mutating func write(_ string: String) { capture.text.withLock { $0 += string } }
    }

    /// The lines written, each without its leading timestamp (the clock may tick between the two).
    func lines(_ capture: Capture) -> [String] {
        capture.text.withLock { $0 }.split(separator: "\n").map { line in String(line.drop { $0 != " " }) }
    }

    @Test("The gateway's handler writes exactly what swift-log's StreamLogHandler writes, metadata set per request included")
    func sameLines() {
        let plain = Capture()
        let gateway = Capture()
        var loggers = [
            Logger(label: "stablegate") { StreamLogHandler(label: $0, stream: CaptureStream(capture: plain), metadataProvider: nil) },
            Logger(label: "stablegate") {
                GatewayLogHandler(StreamLogHandler(label: $0, stream: CaptureStream(capture: gateway), metadataProvider: nil))
            },
        ]
        for index in loggers.indices {
            loggers[index].logLevel = .info
            loggers[index][metadataKey: "request_id"] = "req_1"
            loggers[index][metadataKey: "store_id"] = "st_9"
            loggers[index].debug("not written")
            loggers[index].info("checkout intent created", metadata: ["intent_id": "abc"])
            loggers[index][metadataKey: "store_id"] = nil
            loggers[index].warning("second line")
        }
        #expect(lines(gateway).count == 2)
        #expect(lines(gateway) == lines(plain))
        #expect(lines(gateway).first?.contains("intent_id=abc") == true)
        #expect(lines(gateway).first?.contains("store_id=st_9") == true)
        #expect(lines(gateway).last?.contains("store_id") == false)
    }
}
