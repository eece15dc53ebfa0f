import Logging
import ServiceLifecycle
import StableGateRuntime
import StableGateStore

/// Folds the order-total changes the intent triggers append into the kept totals
/// (``OrderTotalsRepository/compact(limit:)``), so a dashboard read sums a few thousand rollup
/// rows plus a few seconds' changes. A backlog (after a bulk load or a long stop) drains at
/// full speed, one full batch after another; otherwise a fold runs every `interval`, so a
/// steady stream of new orders is folded in a few statements every couple of seconds rather
/// than after every commit (where it took a third of SQLite's writer transactions under a load
/// of creates). Totals are exact whether or not it has
/// run: reads add the changes not yet folded.
struct OrderTotalsCompactor: Service {
    let totals: OrderTotalsRepository
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: interval, pacing: .restWhenIdle, logger: logger, failure: "folding order-total changes failed") {
            let folded = try await totals.compact(limit: OrderTotalsRepository.compactionBatch)
            if folded > 0 { logger.debug("folded order-total changes", metadata: ["changes": "\(folded)"]) }
            // Straight on only while a backlog remains.
            return folded == OrderTotalsRepository.compactionBatch
        }
    }
}
