import Foundation
import StableGateDomain
import Testing

@testable import StableGateEthereum

@Suite("Chains file")
struct ChainsFileTests {
    @Test("A mainnet-style file parses, with defaults for optional numbers")
    func parses() throws {
        let text = """
            {"chains": [
              {"chain_id": 1, "name": "Ethereum", "rpc_url": "https://eth.example/rpc", "confirmations": 12, "max_log_range": 2000,
               "poll_interval_ms": 4000, "explorer_tx_url": "https://etherscan.io/tx/{tx}",
               "tokens": [{"stable_coin": 1, "contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "decimals": 6},
                          {"stable_coin": 2, "contract": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "decimals": 6}]},
              {"chain_id": 56, "name": "BNB Smart Chain", "rpc_url": "https://bsc.example/rpc",
               "tokens": [{"stable_coin": 1, "contract": "0x55d398326f99059fF775485246999027B3197955", "decimals": 18, "symbol": "BSC-USD"}]}
            ]}
            """
        let chains = try ChainsFile.parse(Array(text.utf8))
        #expect(chains.map(\.chainId) == [1, 56])
        #expect(chains[0].token(for: .usdc)?.decimals == 6)
        #expect(chains[0].explorerLink(transaction: "0xabc") == "https://etherscan.io/tx/0xabc")
        #expect(chains[1].confirmations == 12)
        #expect(chains[1].maxLogRange == 2000)
        #expect(chains[1].token(for: .usdt)?.symbol == "BSC-USD")
        #expect(chains[1].explorerLink(transaction: "0xabc") == nil)
    }

    @Test("Every problem is reported, not just the first")
    func problems() {
        let text = """
            {"chains": [
              {"chain_id": 1, "name": "A", "rpc_url": "ftp://x", "confirmations": 0,
               "tokens": [{"stable_coin": 3, "contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "decimals": 6},
                          {"stable_coin": 1, "contract": "0xdac17F958D2ee523a2206206994597C13D831ec7", "decimals": 6},
                          {"stable_coin": 2, "contract": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "decimals": 2}]},
              {"chain_id": 1, "name": "B", "rpc_url": "https://b", "tokens": []}
            ]}
            """
        do {
            _ = try ChainsFile.parse(Array(text.utf8))
            Issue.record("accepted a broken chains file")
        } catch let error as ChainConfigurationError {
            let joined = error.problems.joined(separator: "\n")
            #expect(joined.contains("rpc_url"))
            #expect(joined.contains("confirmations"))
            #expect(joined.contains("stable_coin must be 1 (USDT) or 2 (USDC)"))
            #expect(joined.contains("EIP-55"))  // a wrongly capitalised contract is refused
            #expect(joined.contains("decimals"))
            #expect(joined.contains("listed twice"))
            #expect(joined.contains("has no tokens"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite("Chains file: several RPC endpoints")
struct RPCEndpointsFileTests {
    static func parse(_ fields: String) throws -> [ChainConfiguration] {
        try ChainsFile.parse(
            Array(
                """
                {"chains": [{"chain_id": 8453, "name": "Base", \(fields),
                  "tokens": [{"stable_coin": 2, "contract": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "decimals": 6}]}]}
                """.utf8))
    }

    @Test("rpc_urls lists endpoints in order of preference, with a head quorum and a timeout; rpc_url still works")
    func endpoints() throws {
        let chain = try #require(
            try Self.parse(#""rpc_urls": ["https://a.example/v2/KEY", "https://b.example"], "head_quorum": 2, "rpc_timeout_ms": 2500"#).first)
        #expect(chain.rpcURLs == ["https://a.example/v2/KEY", "https://b.example"] && chain.rpcURL == "https://a.example/v2/KEY")
        #expect(chain.headQuorum == 2 && chain.rpcTimeout == .milliseconds(2500))
        let single = try #require(try Self.parse(#""rpc_url": "https://a.example""#).first)
        #expect(single.rpcURLs == ["https://a.example"] && single.headQuorum == 1 && single.rpcTimeout == .seconds(10))
    }

    @Test(
        "Bad endpoint lists are refused with the reason, and a URL's key never appears in it",
        arguments: [
            (#""rpc_urls": []"#, "at least one"),
            (#""rpc_urls": ["https://a.example"], "rpc_url": "https://b.example""#, "not both"),
            (#""name2": 1"#, "rpc_urls"),
            (#""rpc_urls": ["https://a.example", "https://a.example"]"#, "twice"),
            (#""rpc_urls": ["https://a.example"], "head_quorum": 2"#, "head_quorum"),
            (#""rpc_urls": ["https://a.example"], "rpc_timeout_ms": 10"#, "rpc_timeout_ms"),
            (#""rpc_urls": ["ftp://secret.example/KEY123"]"#, "rpc_urls[0]"),
        ])
    func refused(fields: String, reason: String) {
        do {
            _ = try Self.parse(fields)
            Issue.record("accepted \(fields)")
        } catch let error as ChainConfigurationError {
            let text = error.problems.joined(separator: "\n")
            #expect(text.contains(reason), "\(text)")
            #expect(!text.contains("KEY123"), "the URL's path (where providers put keys) is not repeated")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("The README's mainnet example")
struct MainnetExampleTests {
    @Test("docs/chains.mainnet.example.json parses, with BSC's 18-decimal tokens and no unofficial USDT on Base")
    func mainnetExample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/chains.mainnet.example.json")
        let chains = try ChainsFile.parse(Array(try Data(contentsOf: url)))
        #expect(chains.map(\.chainId) == [1, 56, 137, 42161, 8453])
        #expect(chains[1].tokens.map(\.decimals) == [18, 18])
        #expect(chains.filter { $0.chainId != 56 }.flatMap(\.tokens).allSatisfy { $0.decimals == 6 })
        #expect(chains[4].token(for: .usdt) == nil)
        #expect(chains[0].token(for: .usdt)?.contract.checksummed == "0xdAC17F958D2ee523a2206206994597C13D831ec7")
    }
}
