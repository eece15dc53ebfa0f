import Testing

@testable import StableGateEthereum

/// Provider errors as the common providers word them, and the adaptive log window they drive.
@Suite("RPC providers: error answers and the adaptive eth_getLogs window")
struct ProviderAnswerTests {
    @Test(
        "Range and size limits are recognised, with the range the provider says works",
        arguments: [
            // Alchemy
            (
                -32602,
                "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters, this block range should work: [0x1, 0x2ff]",
                767
            ),
            // Infura: a result count, not a block count
            (-32005, "query returned more than 10000 results", nil),
            // QuickNode
            (-32602, "eth_getLogs is limited to a 10,000 range", 10000),
            // public BSC / geth-style
            (-32000, "exceed maximum block range: 5000", 5000),
            (-32000, "block range greater than 2000 max", 2000),
            (-32600, "max range: 100", 100),
            (-32000, "requested range too big", nil),
            (-32000, "ranges over 10000 blocks are not supported on freetier", 10000),
            (-32062, "Block range is too large", nil),
        ] as [(Int, String, Int?)])
    func rangeLimits(code: Int, message: String, blocks: Int?) {
        #expect(ProviderAnswers.classify(JSONRPCError.node(code: code, message: message)) == .rangeTooWide(maximumBlocks: blocks), "\(message)")
    }

    @Test("Rate limits back off; other node errors are answers")
    func rateLimits() {
        #expect(ProviderAnswers.classify(JSONRPCError.rateLimited(retryAfterSeconds: 7, detail: "HTTP 429")) == .rateLimited(retryAfterSeconds: 7))
        #expect(
            ProviderAnswers.classify(JSONRPCError.node(code: -32005, message: "daily request count exceeded, request rate limited"))
                == .rateLimited(retryAfterSeconds: nil))
        #expect(ProviderAnswers.classify(JSONRPCError.node(code: -32005, message: "limit exceeded")) == .rateLimited(retryAfterSeconds: nil))
        #expect(ProviderAnswers.classify(JSONRPCError.node(code: 429, message: "Too Many Requests")) == .rateLimited(retryAfterSeconds: nil))
        #expect(ProviderAnswers.classify(JSONRPCError.node(code: 3, message: "execution reverted")) == .other)
        #expect(ProviderAnswers.classify(JSONRPCError.transport("HTTP 502 from eth_getLogs: <html>")) == .other)
        #expect(RPCEndpointPool.isAnswer(.node(code: 3, message: "execution reverted")))
        #expect(!RPCEndpointPool.isAnswer(.node(code: -32005, message: "limit exceeded")), "a rate limit fails over")
        #expect(!RPCEndpointPool.isAnswer(.transport("timed out")))
    }

    @Test("The window narrows to what works, halves on unknown errors of wide ranges, widens after successes, never below 1 or above the ceiling")
    func window() {
        var window = LogRangeWindow(ceiling: 2000)
        #expect(window.current == 2000)
        var changed = window.failed(width: 2000, with: .rangeTooWide(maximumBlocks: 500))
        #expect(changed && window.current == 500)
        changed = window.failed(width: 500, with: .other)
        #expect(changed && window.current == 250)
        changed = window.failed(width: 250, with: .rateLimited(retryAfterSeconds: 3))
        #expect(!changed && window.current == 250, "a rate limit is not the range's fault")
        changed = window.failed(width: 250, with: .rangeTooWide(maximumBlocks: nil))
        #expect(changed && window.current == 125)
        for _ in 0..<LogRangeWindow.successesToWiden { window.succeeded(width: 125) }
        #expect(window.current == 250)
        window.succeeded(width: 10)  // a short tail range says nothing about the width
        window.succeeded(width: 250)
        window.succeeded(width: 250)
        #expect(window.current == 250)
        window.succeeded(width: 250)
        #expect(window.current == 500)
        for _ in 0..<30 { window.succeeded(width: window.current) }
        #expect(window.current == 2000, "the configured max_log_range is the ceiling")
        var narrow = LogRangeWindow(ceiling: 4)
        for _ in 0..<10 { narrow.failed(width: narrow.current, with: .other) }
        #expect(narrow.current == 1, "never below one block")
        changed = narrow.failed(width: 1, with: .other)
        #expect(!changed, "a one-block range that fails is an error to report, not a narrower range")
    }
}
