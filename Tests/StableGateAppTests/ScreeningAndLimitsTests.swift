import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StableGateApp
import StableGateDomain
import StableGateEthereum
import StableGatePayments
import StableGateTestSupport
import Testing

@Suite("KYT over HTTP and public endpoint limits")
struct ScreeningAndLimitsTests {
    @Test("The HTTP screening provider reads identifications and sanctioned flags, and reports outages")
    func httpScreening() async throws {
        let flagged = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        let sanctioned = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
        let router = Router()
        router.get("api/v1/address/:address") { request, context -> Response in
            guard request.headers[HTTPField.Name("X-API-Key")!] == "test-key" else { return Response(status: .unauthorized) }
            let address = try context.parameters.require("address")
            let body: String
            switch address {
            case flagged: body = #"{"identifications": [{"category": "sanctions", "name": "SANCTIONS: OFAC SDN Test"}]}"#
            case sanctioned: body = #"{"sanctioned": true}"#
            case "0x0000000000000000000000000000000000000001": return Response(status: .internalServerError)
            default: body = #"{"identifications": []}"#
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let service = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await service.test(.live) { client in
            let screening = HTTPScreening(url: "http://127.0.0.1:\(client.port!)/api/v1/address/", apiKey: "test-key")
            let first = try await screening.screen(try #require(EthereumAddress(flagged)))
            #expect(first == ScreeningVerdict(flagged: true, detail: "SANCTIONS: OFAC SDN Test"))
            #expect(try await screening.screen(try #require(EthereumAddress(sanctioned))).flagged)
            #expect(try await !screening.screen(try #require(EthereumAddress("0x52908400098527886E0F7030069857D2E4169EE7"))).flagged)
            await #expect(throws: ScreeningUnavailable.self) {
                try await screening.screen(try #require(EthereumAddress("0x0000000000000000000000000000000000000001")))
            }
            let wrongKey = HTTPScreening(url: "http://127.0.0.1:\(client.port!)/api/v1/address", apiKey: "nope")
            await #expect(throws: ScreeningUnavailable.self) { try await wrongKey.screen(try #require(EthereumAddress(flagged))) }
        }
    }

    @Test("The public checkout endpoints are rate-limited per client, with Retry-After")
    func checkoutRateLimit() async throws {
        // A stopped clock: the bucket never refills, however slowly a loaded machine sends.
        try await GatewayHarness.with(.sqlite, clock: ManualClock(Date(timeIntervalSince1970: 1_795_000_000))) { harness in
            try await harness.test { client in
                var limited: EnvelopeReply?
                for _ in 0..<80 {
                    let reply = try await client.send(uri: "/checkout/0123456789abcdef01234567/state", method: .get)
                    if reply.code == 40001 {
                        limited = reply
                        break
                    }
                    #expect(reply.code == 50001)
                }
                let reply = try #require(limited, "80 requests in a burst were never limited")
                #expect(reply.status == .tooManyRequests)
                #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
        }
    }
}
