import BigInt
import Foundation
import SQLKit
import StableGateDomain

/// The idempotency record to write with a new intent (Stripe-style `Idempotency-Key`).
public struct IdempotencyClaim: Sendable {
    public let key: String
    /// Lower-case hex SHA-256 of the raw request body.
    public let requestHash: String
    /// The success payload to replay for a repeat of the same request.
    public let responsePayload: String
    public let expiresAt: Date

    public init(key: String, requestHash: String, responsePayload: String, expiresAt: Date) {
        self.key = key
        self.requestHash = requestHash
        self.responsePayload = responsePayload
        self.expiresAt = expiresAt
    }
}

/// What an earlier request with the same idempotency key produced.
public struct IdempotencyRecord: Sendable, Equatable {
    public let requestHash: String
    public let intentId: String
    public let responsePayload: String
}

/// The outcome of creating an intent.
public enum CreateIntentOutcome: Sendable, Equatable {
    /// Created now.
    case created
    /// The idempotency key was already used; nothing was written and this is what it recorded.
    case alreadyRecorded(IdempotencyRecord)
    /// The request's claim, recorded with the create, was refused (a replayed nonce, or the
    /// key over its rate): the refusal was recorded and no intent was written.
    case notAdmitted(ClaimVerdict)
}

/// The owner and status of an intent: all the status endpoint needs.
public struct IntentStatusRow: Sendable, Equatable {
    public let storeId: String
    public let status: CheckoutStatus
}

/// Writes what must commit together with an intent's change — the notification outboxes —
/// inside the transaction that changes the intent. If it throws, the change rolls back.
public protocol IntentChangeObserver: Sendable {
    /// New intents with their creation records.
    func intentsCreated(_ created: [(intent: CheckoutIntent, transition: StatusTransition)], on db: any SQLDatabase) async throws
    /// An intent changed from `before` to `after`, moving through `transitions` (maybe none).
    func intentChanged(from before: CheckoutIntent, to after: CheckoutIntent, transitions: [StatusTransition], on db: any SQLDatabase) async throws
}

/// Checkout intents and their status history.
///
/// Creates without an idempotency key are group-committed: concurrent creates share one
/// transaction with one multi-row INSERT per table, and record their requests' claims
/// (``PendingClaim``) in it. Keep one repository per database so they share its batches.
public struct CheckoutIntentRepository: Sendable {
    private let database: any DatabaseClient
    private let creates: GroupCommitter<NewIntent, Result<ClaimVerdict?, any Error>>
    /// Told of every create and change, in its transaction (bulk loads excepted).
    private let observer: (any IntentChangeObserver)?

    /// An intent and its creation record, as queued for insertion.
    struct NewIntent: Sendable {
        let intent: CheckoutIntent
        let transition: StatusTransition
        /// The request's claim, recorded first; the intent is written only if it is accepted.
        let claim: RequestClaim?
    }

    /// Most intents inserted by one statement (43 binds each, far below driver limits).
    static let maximumBatch = 64

    /// Which database the intents live in (callers composing their own statements need it).
    public var dialect: DatabaseDialect { database.dialect }

    public init(database: any DatabaseClient, observer: (any IntentChangeObserver)? = nil) {
        self.database = database
        self.observer = observer
        let insert = { @Sendable (batch: [NewIntent], db: any SQLDatabase) async throws -> [ClaimVerdict?] in
            try await Self.insertAdmitted(batch, observer: observer, on: db)
        }
        self.creates = GroupCommitter(maximumBatch: Self.maximumBatch) { batch in
            do {
                return try await database.transaction { db in try await insert(batch, db) }.map { .success($0) }
            } catch  where batch.count > 1 {
                // One bad row must not fail its neighbours: retry each on its own, and let
                // only the failing one see its error.
                var outcomes: [Result<ClaimVerdict?, any Error>] = []
                for item in batch {
                    do {
                        outcomes.append(.success(try await database.transaction { db in try await insert([item], db) }[0]))
                    } catch {
                        outcomes.append(.failure(error))
                    }
                }
                return outcomes
            }
        }
    }

    /// The live idempotency record of `key` for a store, if any (expired ones count as absent).
    public func idempotencyRecord(storeId: String, key: String, now: Date) async throws -> IdempotencyRecord? {
        try await database.read { db in
            try await Self.idempotencyRecord(storeId: storeId, key: key, now: now, on: db)
        }
    }

    private static func idempotencyRecord(storeId: String, key: String, now: Date, on db: any SQLDatabase) async throws -> IdempotencyRecord? {
        try await db.raw(
            """
            SELECT request_hash, intent_id, response_payload FROM idempotency_records
            WHERE store_id = \(bind: storeId) AND idempotency_key = \(bind: key) AND expires_at > \(bind: now.unixMilliseconds)
            """
        ).first().map { row in
            IdempotencyRecord(
                requestHash: try row.decode(column: "request_hash", as: String.self),
                intentId: try row.decode(column: "intent_id", as: String.self),
                responsePayload: try row.decode(column: "response_payload", as: String.self))
        }
    }

    /// Inserts a new intent with its creation record and, if given, its idempotency record, in
    /// one transaction. When another request took the same idempotency key first (even
    /// concurrently, on another instance), nothing is written and its record is returned.
    ///
    /// With `claim`, the request's claim is recorded in the same transaction, first, unless it
    /// was already recorded; the intent is written only if the claim is accepted.
    public func create(
        _ intent: CheckoutIntent, transition: StatusTransition, idempotency: IdempotencyClaim?, claim pending: PendingClaim? = nil
    ) async throws -> CreateIntentOutcome {
        let claim = pending?.take()
        let outcome: CreateIntentOutcome
        let verdict: ClaimVerdict?
        do {
            (outcome, verdict) = try await create(intent, transition: transition, idempotency: idempotency, recording: claim)
        } catch {
            if claim != nil { pending?.release() }
            throw error
        }
        guard claim != nil else { return outcome }
        // Not recorded (a concurrent twin's idempotency record won after a rollback): the
        // claim goes back, to be recorded on its own.
        if let verdict { pending?.decide(verdict) } else { pending?.release() }
        return outcome
    }

    /// The outcome, and the claim's verdict if this write recorded it.
    private func create(
        _ intent: CheckoutIntent, transition: StatusTransition, idempotency: IdempotencyClaim?, recording claim: RequestClaim?
    ) async throws -> (CreateIntentOutcome, ClaimVerdict?) {
        guard let idempotency else {
            let verdict = try await creates.submit(NewIntent(intent: intent, transition: transition, claim: claim)).get()
            if let verdict, verdict != .accepted { return (.notAdmitted(verdict), verdict) }
            return (.created, verdict)
        }
        do {
            return try await database.transaction { db in
                var verdict: ClaimVerdict?
                if let claim { verdict = try await RequestLedger.record([claim], on: db)[0] }
                if let verdict, verdict != .accepted { return (.notAdmitted(verdict), verdict) }
                try await db.raw(
                    """
                    DELETE FROM idempotency_records
                    WHERE store_id = \(bind: intent.storeId) AND idempotency_key = \(bind: idempotency.key)
                      AND expires_at <= \(bind: intent.createdAt.unixMilliseconds)
                    """
                ).run()
                if let existing = try await Self.idempotencyRecord(storeId: intent.storeId, key: idempotency.key, now: intent.createdAt, on: db) {
                    return (.alreadyRecorded(existing), verdict)
                }
                try await Self.insert([NewIntent(intent: intent, transition: transition, claim: nil)], on: db)
                try await observer?.intentsCreated([(intent, transition)], on: db)
                try await db.raw(
                    """
                    INSERT INTO idempotency_records (store_id, idempotency_key, request_hash, intent_id, response_payload, created_at, expires_at)
                    VALUES (\(bind: intent.storeId), \(bind: idempotency.key), \(bind: idempotency.requestHash), \(bind: intent.id),
                            \(bind: idempotency.responsePayload), \(bind: intent.createdAt.unixMilliseconds), \(bind: idempotency.expiresAt.unixMilliseconds))
                    """
                ).run()
                return (.created, verdict)
            }
        } catch {
            // A concurrent request with the same key committed first: its unique key made our
            // insert fail and roll back (the claim with it). Report what it recorded.
            if let existing = try await idempotencyRecord(storeId: intent.storeId, key: idempotency.key, now: intent.createdAt) {
                return (.alreadyRecorded(existing), nil)
            }
            throw error
        }
    }

    /// The intent with `id`, whatever its store (callers check ownership).
    public func find(id: String) async throws -> CheckoutIntent? {
        try await database.read { db in try await Self.find(id: id, on: db) }
    }

    /// The intent whose checkout link has the token digest `tokenHash` (``CheckoutLink/digest(_:)``).
    public func find(checkoutTokenHash tokenHash: String) async throws -> CheckoutIntent? {
        try await database.read { db in
            try await db.raw("SELECT * FROM checkout_intents WHERE checkout_token_hash = \(bind: tokenHash)").first().map(Self.intent(from:))
        }
    }

    /// Gives every intent without a checkout link one from `issue`, `batchSize` to a
    /// transaction (rows written before links existed). Returns how many it gave.
    public func issueMissingCheckoutLinks(batchSize: Int = 500, issue: @Sendable () throws -> CheckoutLink) async throws -> Int {
        var issued = 0
        var after = ""
        while true {
            // Keyset pages in primary-key order: each batch starts where the last one ended.
            let start = after
            let (count, last) = try await database.transaction { db -> (Int, String?) in
                let ids = try await db.raw(
                    """
                    SELECT id FROM checkout_intents WHERE id > \(bind: start) AND checkout_token_hash IS NULL
                    ORDER BY id LIMIT \(unsafeRaw: String(batchSize))
                    """
                ).all(decodingColumn: "id", as: String.self)
                for id in ids {
                    let link = try issue()
                    try await db.raw(
                        """
                        UPDATE checkout_intents SET checkout_token_hash = \(bind: link.tokenHash), checkout_token_sealed = \(bind: link.sealedToken)
                        WHERE id = \(bind: id) AND checkout_token_hash IS NULL
                        """
                    ).run()
                }
                return (ids.count, ids.last)
            }
            issued += count
            guard count == batchSize, let last else { return issued }
            after = last
        }
    }

    /// Owner and status of `id`, read with one narrow query for the polling endpoint.
    public func status(id: String) async throws -> IntentStatusRow? {
        try await database.read { db in
            try await db.raw("SELECT store_id, status FROM checkout_intents WHERE id = \(bind: id)").first().map { row in
                let raw = try row.decode(column: "status", as: Int64.self)
                guard let status = CheckoutStatus(rawValue: Int(raw)) else {
                    throw StoreDataError("checkout intent \(id) has unknown status \(raw)")
                }
                return IntentStatusRow(storeId: try row.decode(column: "store_id", as: String.self), status: status)
            }
        }
    }

    /// The status history of an intent, oldest first.
    public func transitions(intentId: String) async throws -> [StatusTransition] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT from_status, to_status, reason, at FROM intent_transitions WHERE intent_id = \(bind: intentId) ORDER BY seq
                """
            ).all().map { row in
                func status(_ raw: Int64) throws -> CheckoutStatus {
                    guard let status = CheckoutStatus(rawValue: Int(raw)) else {
                        throw StoreDataError("intent \(intentId): a transition has unknown status \(raw)")
                    }
                    return status
                }
                return StatusTransition(
                    from: try row.decode(column: "from_status", as: Int64?.self).map(status),
                    to: try status(row.decode(column: "to_status", as: Int64.self)),
                    reason: try row.decode(column: "reason", as: String.self),
                    at: Date(unixMilliseconds: try row.decode(column: "at", as: Int64.self)))
            }
        }
    }

    /// Intents whose time is up, for the expiry pass: open ones past their payment window with
    /// no transfer still confirming, ON_CHAIN ones past it whose payments vanished or carry
    /// nothing, and ones never given a network since `unassignedSince`. Each group is its own
    /// batch of at most 200, so waiting ON_CHAIN intents never crowd out the rest.
    public func idsDueForExpiry(now: Date, unassignedSince: Date) async throws -> [String] {
        let now = now.unixMilliseconds
        let lifetimeStart = unassignedSince.unixMilliseconds
        return try await database.read { db in
            let windows = try await db.raw(
                """
                SELECT id FROM checkout_intents WHERE status IN (\(unsafeRaw: CheckoutStatus.sqlList(.created, .paying, .tempWalletReceived))) AND expires_at <= \(bind: now)
                  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.state = 'seen')
                ORDER BY expires_at LIMIT 200
                """
            ).all(decodingColumn: "id", as: String.self)
            // ON_CHAIN past its window: normally waiting for confirmations, which the watcher
            // handles; looked at here too so that one whose transfers vanished or carry nothing
            // still ends.
            let onChain = try await db.raw(
                """
                SELECT id FROM checkout_intents WHERE status = \(unsafeRaw: CheckoutStatus.sqlList(.onChain)) AND expires_at <= \(bind: now)
                  AND NOT EXISTS (SELECT 1 FROM chain_transfers t WHERE t.intent_id = checkout_intents.id AND t.kind = 'payment'
                                  AND (t.state = 'seen' OR t.kyt_status = 'pending'))
                ORDER BY expires_at LIMIT 200
                """
            ).all(decodingColumn: "id", as: String.self)
            let unassigned = try await db.raw(
                """
                SELECT id FROM checkout_intents WHERE status IN (\(unsafeRaw: CheckoutStatus.sqlList(.created, .paying))) AND created_at <= \(bind: lifetimeStart)
                  AND deposit_address IS NULL
                ORDER BY created_at LIMIT 200
                """
            ).all(decodingColumn: "id", as: String.self)
            return windows + onChain + unassigned
        }
    }

    /// How many intents exist (all stores). For tests and the operator.
    public func count() async throws -> Int {
        try await database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM checkout_intents").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    static func appendTransition(intentId: String, sequence: Int, _ transition: StatusTransition, on db: any SQLDatabase) async throws {
        try await db.raw(transitionInsert([(intentId, sequence, transition)])).run()
    }

    private static func transitionInsert(_ rows: [(intentId: String, sequence: Int, transition: StatusTransition)]) -> SQLQueryString {
        var query = SQLQueryString("INSERT INTO intent_transitions (intent_id, seq, from_status, to_status, reason, at) VALUES ")
        for (index, row) in rows.enumerated() {
            if index > 0 { query.appendLiteral(", ") }
            query.appendTuple([
                row.intentId, Int64(row.sequence), row.transition.from.map { Int64($0.rawValue) }, Int64(row.transition.to.rawValue),
                row.transition.reason, row.transition.at.unixMilliseconds,
            ])
        }
        return query
    }

    /// Inserts intents and their creation records: one statement per table, whatever the count.
    /// Records the batch's claims, then inserts the intents whose claim is accepted (or that
    /// have none) and tells the observer. Returns each item's verdict (nil without a claim).
    private static func insertAdmitted(
        _ batch: [NewIntent], observer: (any IntentChangeObserver)?, on db: any SQLDatabase
    ) async throws -> [ClaimVerdict?] {
        var verdicts = [ClaimVerdict?](repeating: nil, count: batch.count)
        let claimed = batch.indices.filter { batch[$0].claim != nil }
        if !claimed.isEmpty {
            let decided = try await RequestLedger.record(claimed.compactMap { batch[$0].claim }, on: db)
            for (index, verdict) in zip(claimed, decided) { verdicts[index] = verdict }
        }
        let admitted = batch.indices.filter { verdicts[$0] == nil || verdicts[$0] == .accepted }.map { batch[$0] }
        if !admitted.isEmpty {
            try await insert(admitted, on: db)
            try await observer?.intentsCreated(admitted.map { ($0.intent, $0.transition) }, on: db)
        }
        return verdicts
    }

    static func insert(_ batch: [NewIntent], on db: any SQLDatabase) async throws {
        var query = SQLQueryString(
            """
            INSERT INTO checkout_intents (
                id, store_id, status, pricing_mode, currency, amount_cents, rate, rate_as_of, stable_coin, accepted_stable_coins,
                amount_coins, amount_micro, order_id, order_description, user_id, user_name, redirect_url, extra,
                chain_id, coin_contract, tx_hash, tx_hash_2, tx_from, tx_to, actual_paid_amount, service_fee_amount,
                net_income_amount, payment_method_type, error_message, created_at, updated_at, deposit_address, token_decimals,
                amount_base_units, expires_at, settlement_status, overpaid_amount, late_paid_amount, version,
                checkout_token_hash, checkout_token_sealed, reported_tx_hash, reported_tx_from)
            VALUES\u{20}
            """)
        for (index, item) in batch.enumerated() {
            if index > 0 { query.appendLiteral(", ") }
            query.appendTuple(try columnValues(item.intent))
        }
        try await db.raw(query).run()
        try await db.raw(transitionInsert(batch.map { ($0.intent.id, 1, $0.transition) })).run()
    }

    /// The values of one `checkout_intents` row, in the column order of ``insert(_:on:)``.
    private static func columnValues(_ intent: CheckoutIntent) throws -> [any Encodable & Sendable] {
        let currency: Int64?
        let rate: String?
        let rateAsOf: Int64?
        let mode: String
        switch intent.pricing {
        case .fiat(let fiat, _, let fiatRate, let asOf):
            mode = "fiat"
            currency = Int64(fiat.rawValue)
            rate = fiatRate.plainString()
            rateAsOf = asOf.unixMilliseconds
        case .stableCoin:
            mode = "stable_coin"
            currency = nil
            rate = nil
            rateAsOf = nil
        }
        guard let micro = intent.amountCoins.baseUnits(decimals: MoneyRules.quoteScale), let amountMicro = Int64(exactly: micro) else {
            throw StoreDataError("amount \(intent.amountCoins) of intent \(intent.id) does not fit the quote scale")
        }
        let order = intent.order
        let payment = intent.payment
        return [
            intent.id, intent.storeId, Int64(intent.status.rawValue), mode, currency, intent.pricing.amountCents, rate, rateAsOf,
            Int64(intent.settlementCoin.rawValue), intent.acceptedStableCoins.map { String($0.rawValue) }.joined(separator: ","),
            intent.amountCoins.plainString(), amountMicro, order.orderId, order.orderDescription, order.userId, order.userName,
            order.redirectURL, order.extra?.serialized, payment.chainId, payment.coinContract, payment.txHash, payment.txHash2,
            payment.txFrom, payment.txTo, payment.actualPaidAmount?.plainString(), payment.serviceFeeAmount?.plainString(),
            payment.netIncomeAmount?.plainString(), Int64(payment.paymentMethodType.rawValue), payment.errorMessage,
            intent.createdAt.unixMilliseconds, intent.updatedAt.unixMilliseconds, intent.deposit?.address,
            intent.deposit.map { Int64($0.tokenDecimals) }, intent.deposit.map { String($0.amountBaseUnits) },
            intent.deposit?.expiresAt.unixMilliseconds, intent.settlementStatus?.rawValue, intent.overpaidAmount?.plainString(),
            intent.latePaidAmount?.plainString(), intent.version, intent.checkoutLink?.tokenHash, intent.checkoutLink?.sealedToken,
            intent.walletReport?.transactionHash, intent.walletReport?.from,
        ]
    }

    static func intent(from row: any SQLRow) throws -> CheckoutIntent {
        let id = try row.decode(column: "id", as: String.self)
        func decimal(_ column: String) throws -> DecimalAmount? {
            guard let text = try row.decode(column: column, as: String?.self) else { return nil }
            guard let value = DecimalAmount(text) else { throw StoreDataError("intent \(id): \(column) is not a decimal: \(text)") }
            return value
        }
        func enumValue<E: RawRepresentable<Int>>(_ column: String, _ type: E.Type) throws -> E {
            let raw = try row.decode(column: column, as: Int64.self)
            guard let value = E(rawValue: Int(raw)) else { throw StoreDataError("intent \(id): \(column) has unknown value \(raw)") }
            return value
        }
        let amountCents = try row.decode(column: "amount_cents", as: Int64.self)
        let pricing: Pricing
        switch try row.decode(column: "pricing_mode", as: String.self) {
        case "fiat":
            guard let currencyRaw = try row.decode(column: "currency", as: Int64?.self),
                let currency = FiatCurrency(rawValue: Int(currencyRaw)),
                let rate = try decimal("rate"),
                let asOf = try row.decode(column: "rate_as_of", as: Int64?.self)
            else { throw StoreDataError("intent \(id): fiat pricing without currency, rate or rate time") }
            pricing = .fiat(currency: currency, amountCents: amountCents, rate: rate, rateAsOf: Date(unixMilliseconds: asOf))
        case "stable_coin":
            pricing = .stableCoin(amountCents: amountCents)
        case let other:
            throw StoreDataError("intent \(id): unknown pricing mode \(other)")
        }
        let accepted = try row.decode(column: "accepted_stable_coins", as: String.self)
            .split(separator: ",").compactMap { Int($0).flatMap(StableCoin.init(rawValue:)) }
        var extra: JSONValue?
        if let extraText = try row.decode(column: "extra", as: String?.self) {
            extra = try? JSONParser.parse(extraText)
        }
        guard let amountCoins = try decimal("amount_coins") else { throw StoreDataError("intent \(id): amount_coins missing") }
        return CheckoutIntent(
            id: id,
            storeId: try row.decode(column: "store_id", as: String.self),
            status: try enumValue("status", CheckoutStatus.self),
            pricing: pricing,
            settlementCoin: try enumValue("stable_coin", StableCoin.self),
            acceptedStableCoins: accepted,
            amountCoins: amountCoins,
            order: OrderDetails(
                orderId: try row.decode(column: "order_id", as: String?.self),
                orderDescription: try row.decode(column: "order_description", as: String?.self),
                userId: try row.decode(column: "user_id", as: String?.self),
                userName: try row.decode(column: "user_name", as: String?.self),
                redirectURL: try row.decode(column: "redirect_url", as: String?.self),
                extra: extra),
            payment: PaymentDetails(
                chainId: try row.decode(column: "chain_id", as: Int64?.self),
                coinContract: try row.decode(column: "coin_contract", as: String?.self),
                txHash: try row.decode(column: "tx_hash", as: String?.self),
                txHash2: try row.decode(column: "tx_hash_2", as: String?.self),
                txFrom: try row.decode(column: "tx_from", as: String?.self),
                txTo: try row.decode(column: "tx_to", as: String?.self),
                actualPaidAmount: try decimal("actual_paid_amount"),
                serviceFeeAmount: try decimal("service_fee_amount"),
                netIncomeAmount: try decimal("net_income_amount"),
                paymentMethodType: try enumValue("payment_method_type", PaymentMethodType.self),
                errorMessage: try row.decode(column: "error_message", as: String?.self)),
            createdAt: Date(unixMilliseconds: try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Date(unixMilliseconds: try row.decode(column: "updated_at", as: Int64.self)),
            deposit: try deposit(from: row, id: id),
            settlementStatus: try row.decode(column: "settlement_status", as: String?.self).flatMap(SettlementStatus.init(rawValue:)),
            overpaidAmount: try decimal("overpaid_amount"),
            latePaidAmount: try decimal("late_paid_amount"),
            version: try row.decode(column: "version", as: Int64.self),
            checkoutLink: try checkoutLink(from: row),
            walletReport: try walletReport(from: row))
    }

    private static func checkoutLink(from row: any SQLRow) throws -> CheckoutLink? {
        guard let hash = try row.decode(column: "checkout_token_hash", as: String?.self),
            let sealed = try row.decode(column: "checkout_token_sealed", as: String?.self)
        else { return nil }
        return CheckoutLink(tokenHash: hash, sealedToken: sealed)
    }

    private static func walletReport(from row: any SQLRow) throws -> WalletReport? {
        guard let hash = try row.decode(column: "reported_tx_hash", as: String?.self),
            let from = try row.decode(column: "reported_tx_from", as: String?.self)
        else { return nil }
        return WalletReport(transactionHash: hash, from: from)
    }

    private static func deposit(from row: any SQLRow, id: String) throws -> DepositAssignment? {
        guard let address = try row.decode(column: "deposit_address", as: String?.self) else { return nil }
        guard let decimals = try row.decode(column: "token_decimals", as: Int64?.self),
            let unitsText = try row.decode(column: "amount_base_units", as: String?.self), let units = BigUInt(unitsText),
            let expiresAt = try row.decode(column: "expires_at", as: Int64?.self)
        else { throw StoreDataError("intent \(id): deposit address without token, amount or expiry") }
        return DepositAssignment(address: address, tokenDecimals: Int(decimals), amountBaseUnits: units, expiresAt: Date(unixMilliseconds: expiresAt))
    }

    /// Why an optimistic update did not apply.
    public struct ConcurrentUpdate: Error, Sendable, CustomStringConvertible {
        public let intentId: String
        public var description: String { "intent \(intentId) changed concurrently; re-read and retry" }
    }

    /// Writes every mutable field of `intent` and appends `transitions`, if the stored version
    /// is still `intent.version`; the stored version becomes `intent.version + 1`.
    ///
    /// - Throws: ``ConcurrentUpdate`` when someone else changed the intent first.
    public static func update(_ intent: CheckoutIntent, transitions: [StatusTransition], on db: any SQLDatabase) async throws {
        let payment = intent.payment
        let deposit = intent.deposit
        let row = try await db.raw(
            """
            UPDATE checkout_intents SET
                status = \(bind: Int64(intent.status.rawValue)), stable_coin = \(bind: Int64(intent.settlementCoin.rawValue)),
                chain_id = \(bind: payment.chainId), coin_contract = \(bind: payment.coinContract), tx_hash = \(bind: payment.txHash),
                tx_hash_2 = \(bind: payment.txHash2), tx_from = \(bind: payment.txFrom), tx_to = \(bind: payment.txTo),
                actual_paid_amount = \(bind: payment.actualPaidAmount?.plainString()),
                service_fee_amount = \(bind: payment.serviceFeeAmount?.plainString()),
                net_income_amount = \(bind: payment.netIncomeAmount?.plainString()),
                payment_method_type = \(bind: Int64(payment.paymentMethodType.rawValue)), error_message = \(bind: payment.errorMessage),
                deposit_address = \(bind: deposit?.address), token_decimals = \(bind: deposit.map { Int64($0.tokenDecimals) }),
                amount_base_units = \(bind: deposit.map { String($0.amountBaseUnits) }), expires_at = \(bind: deposit?.expiresAt.unixMilliseconds),
                settlement_status = \(bind: intent.settlementStatus?.rawValue), overpaid_amount = \(bind: intent.overpaidAmount?.plainString()),
                late_paid_amount = \(bind: intent.latePaidAmount?.plainString()), updated_at = \(bind: intent.updatedAt.unixMilliseconds),
                reported_tx_hash = \(bind: intent.walletReport?.transactionHash), reported_tx_from = \(bind: intent.walletReport?.from),
                version = \(bind: intent.version + 1)
            WHERE id = \(bind: intent.id) AND version = \(bind: intent.version)
            RETURNING version
            """
        ).first()
        guard row != nil else { throw ConcurrentUpdate(intentId: intent.id) }
        guard !transitions.isEmpty else { return }
        let last =
            try await db.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM intent_transitions WHERE intent_id = \(bind: intent.id)")
            .first()?.decode(column: "seq", as: Int64.self) ?? 0
        try await db.raw(transitionInsert(transitions.enumerated().map { (intent.id, Int(last) + 1 + $0.offset, $0.element) })).run()
    }

    /// Inserts many intents, 64 to a transaction (bulk loads and benchmarks). Bulk loads are
    /// not observed: they notify nobody.
    public func insertAll(_ intents: [(CheckoutIntent, StatusTransition)]) async throws {
        for start in stride(from: 0, to: intents.count, by: Self.maximumBatch) {
            let batch = intents[start..<min(start + Self.maximumBatch, intents.count)].map { NewIntent(intent: $0.0, transition: $0.1, claim: nil) }
            try await database.transaction { db in try await Self.insert(batch, on: db) }
        }
    }

    /// The intent `id` read inside a transaction.
    public static func find(id: String, on db: any SQLDatabase) async throws -> CheckoutIntent? {
        try await db.raw("SELECT * FROM checkout_intents WHERE id = \(bind: id)").first().map(intent(from:))
    }

    /// Runs `change` on the current intent in a transaction and stores the result with its
    /// transitions, retrying from a fresh read when another writer got there first.
    /// `change` returns nil to leave the intent alone.
    public func modify<T: Sendable>(
        id: String, attempts: Int = 5,
        _ change: @Sendable (inout CheckoutIntent, any SQLDatabase) async throws -> (transitions: [StatusTransition], result: T)?
    ) async throws -> T? {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await database.transaction { db -> T? in
                    guard var intent = try await Self.find(id: id, on: db) else { return nil }
                    let before = intent
                    guard let outcome = try await change(&intent, db) else { return nil }
                    try await Self.update(intent, transitions: outcome.transitions, on: db)
                    try await observer?.intentChanged(from: before, to: intent, transitions: outcome.transitions, on: db)
                    return outcome.result
                }
            } catch is ConcurrentUpdate where attempt < attempts {
                continue
            }
        }
    }
}

/// Stored data that does not make sense (a bug or manual tampering), with what was wrong.
public struct StoreDataError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
