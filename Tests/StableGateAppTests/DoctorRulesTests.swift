import Foundation
import StableGateDomain
import StableGateEthereum
import Testing

@testable import StableGateApp
@testable import StableGateStore

/// `stablegate doctor`'s verdicts on findings the end-to-end tests do not produce on demand
/// (Tests/e2e/test_doctor.py drives the rest through real parts).
@Suite("Doctor rules and report")
struct DoctorRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func event(
        _ id: String, _ state: WebhookEventState, attempts: Int, status: Int? = nil, error: String? = nil, minutesAgo: Double
    )
        -> WebhookEventRecord
    {
        WebhookEventRecord(
            id: id, storeId: "store", endpoint: .events, intentId: nil, sequence: 0, type: "webhook.test", body: "{}",
            createdAt: now.addingTimeInterval(-minutesAgo * 60), state: state, attempts: attempts, cycleAttempts: attempts,
            nextAttemptAt: now, lastStatus: status, lastError: error,
            deliveredAt: state == .delivered ? now.addingTimeInterval(-minutesAgo * 60) : nil)
    }

    @Test("Webhooks: retries under way warn, events that gave up since the last delivery fail, older failures do not count")
    func webhooks() {
        let url = "https://shop.example/hooks?token=secret"
        func verdict(_ events: [WebhookEventRecord]) -> DoctorCheck {
            DoctorRules.webhook(storeId: "store", endpoint: .events, url: url, events: events)
        }
        #expect(verdict([]).status == .ok)
        let retrying = verdict([
            event("evt_2", .pending, attempts: 1, status: 502, minutesAgo: 1), event("evt_1", .delivered, attempts: 1, minutesAgo: 9),
        ])
        #expect(retrying.status == .warn && retrying.detail.contains("HTTP 502") && retrying.detail.contains("1 event is being retried"))
        let gaveUp = verdict([
            event("evt_3", .failed, attempts: 13, error: "connection refused", minutesAgo: 1), event("evt_2", .failed, attempts: 13, minutesAgo: 2),
            event("evt_1", .delivered, attempts: 1, minutesAgo: 9),
        ])
        #expect(gaveUp.status == .fail && gaveUp.detail.contains("2 events gave up") && gaveUp.detail.contains("connection refused"))
        #expect(gaveUp.action?.contains("stablegate webhooks redeliver evt_3") == true)
        #expect(!gaveUp.detail.contains("secret"), "the URL is shown without its query")
        let recovered = verdict([event("evt_4", .delivered, attempts: 1, minutesAgo: 1), event("evt_3", .failed, attempts: 13, minutesAgo: 5)])
        #expect(recovered.status == .ok, "a delivery after the failures: the receiver works again")
    }

    @Test("Scan lag: never scanned warns, within readiness is fine, beyond it fails")
    func scanLag() throws {
        let chain = try #require(
            try ChainsFile.parse(
                Array(
                    #"{"chains": [{"chain_id": 1, "name": "Ethereum", "rpc_url": "https://rpc.example/key", "tokens": [{"stable_coin": 1, "contract": "0xdac17f958d2ee523a2206206994597c13d831ec7", "decimals": 6}]}]}"#
                        .utf8)
            ).first)
        #expect(DoctorRules.headLag(chain, cursor: nil, head: 100, maximumBlocks: 50).status == .warn)
        #expect(DoctorRules.headLag(chain, cursor: 101, head: 100, maximumBlocks: 50).status == .ok)
        let behind = DoctorRules.headLag(chain, cursor: 40, head: 100, maximumBlocks: 50)
        #expect(behind.status == .fail && behind.detail.contains("61 blocks behind"))
    }

    @Test("The report: warnings alone exit 0, any failure exits 1; the JSON's status is the worst check's")
    func report() throws {
        let warned = DoctorReport(checks: [.ok("database", "answers"), .warn("schema", "behind", action: "run `stablegate migrate`")])
        #expect(warned.exitCode == 0 && warned.json["status"] == .string("warn"))
        #expect(
            warned.text.split(separator: "\n").map(String.init) == [
                "ok    database  answers", "warn  schema    behind", "      → run `stablegate migrate`", "healthy: 2 checks, 0 failed, 1 warnings",
            ])
        let failed = DoctorReport(checks: warned.checks + [.fail("smtp", "535", action: "check smtp.password")])
        #expect(failed.exitCode == 1 && failed.json["status"] == .string("fail") && failed.json["failures"] == JSONValue.int(1))
        let parsed = try JSONParser.parse(Array(failed.json.serialized.utf8))
        guard case .array(let checks)? = parsed["checks"] else {
            Issue.record("no checks array")
            return
        }
        #expect(checks.count == 3 && checks[0]["action"] == JSONValue.null && checks[2]["action"] == .string("check smtp.password"))
    }
}
