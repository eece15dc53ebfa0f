import Foundation
import SQLKit
import StableGateDomain
import StableGateStore

/// Writes the notifications an intent's change causes into the outboxes, inside the change's
/// own transaction (a transactional outbox: the change and its notifications commit together
/// or not at all, so a crash can neither lose an event nor announce a change that rolled back).
///
/// - to the store's webhook URL, an AllScale-format delivery when the intent is CONFIRMED, and
///   for nothing else (docs/WIRE-CONTRACT.md §7.1: integrations fulfil on any delivery that
///   verifies, so an underpaid, canceled, expired, rejected or late order never gets one);
/// - to the store's StableGate events URL, an event for every status transition and for every
///   late payment; its body carries the intent as the full GET shows it after the change;
/// - an e-mail on "order created" and on "order confirmed", when the store has notification
///   addresses (rendered when sent).
struct NotificationRecorder: IntentChangeObserver {
    let identifiers: any IdentifierGenerator
    /// For `checkout_url` in event bodies.
    let links: CheckoutLinks
    /// False without a mail server: then no e-mail is queued (none could be sent).
    let emailsEnabled: Bool

    func intentsCreated(_ created: [(intent: CheckoutIntent, transition: StatusTransition)], on db: any SQLDatabase) async throws {
        let targets = try await MerchantRepository.notificationTargets(storeIds: Set(created.map(\.intent.storeId)), on: db)
        var events: [NewWebhookEvent] = []
        for (intent, transition) in created {
            guard let target = targets[intent.storeId] else { continue }
            events += self.events(intent, transitions: [transition], latePayment: nil, target: target, firstSequence: 1)
            if emailsEnabled, !target.emails.isEmpty {
                try await EmailOutboxRepository.enqueue(
                    id: identifiers.objectId(at: transition.at), storeId: intent.storeId, intentId: intent.id, kind: .orderCreated,
                    recipients: target.emails, at: transition.at, on: db)
            }
        }
        try await WebhookRepository.enqueue(events, on: db)
    }

    func intentChanged(from before: CheckoutIntent, to after: CheckoutIntent, transitions: [StatusTransition], on db: any SQLDatabase) async throws {
        var latePayment: Date?
        if let late = after.latePaidAmount, late > (before.latePaidAmount ?? .zero) { latePayment = after.updatedAt }
        guard !transitions.isEmpty || latePayment != nil,
            let target = try await MerchantRepository.notificationTargets(storeIds: [after.storeId], on: db)[after.storeId]
        else { return }
        if !target.webhookIds.isEmpty {
            let first = try await WebhookRepository.nextSequence(intentId: after.id, on: db)
            try await WebhookRepository.enqueue(
                events(after, transitions: transitions, latePayment: latePayment, target: target, firstSequence: first), on: db)
        }
        if emailsEnabled, !target.emails.isEmpty, let confirmed = transitions.first(where: { $0.to == .confirmed }) {
            try await EmailOutboxRepository.enqueue(
                id: identifiers.objectId(at: confirmed.at), storeId: after.storeId, intentId: after.id, kind: .orderConfirmed,
                recipients: target.emails, at: confirmed.at, on: db)
        }
    }

    /// The events one change causes, numbered from `firstSequence` in the order they happened.
    private func events(
        _ intent: CheckoutIntent, transitions: [StatusTransition], latePayment: Date?, target: NotificationTargets, firstSequence: Int64
    ) -> [NewWebhookEvent] {
        var events: [NewWebhookEvent] = []
        func add(_ endpoint: WebhookEndpoint, type: String, at date: Date, body: (String) -> String) {
            let id = "evt_" + identifiers.objectId(at: date)
            events.append(
                NewWebhookEvent(
                    id: id, storeId: intent.storeId, endpoint: endpoint, intentId: intent.id, sequence: firstSequence + Int64(events.count),
                    type: type, body: body(id), createdAt: date))
        }
        for transition in transitions {
            if let webhookId = target.webhookIds[.events] {
                let type = WebhookEventType.transition(to: transition.to)
                add(.events, type: type, at: transition.at) { id in
                    WebhookBody.serialized(
                        eventId: id, type: type, createdAt: CheckoutIntentWire.timestamp(transition.at), webhookId: webhookId,
                        data: CheckoutIntentWire.fullPayload(intent, checkoutURL: links.url(for: intent)))
                }
            }
            if transition.to == .confirmed, let webhookId = target.webhookIds[.allscale] {
                // One per payment, repeated by every redelivery (the body is stored).
                let transactionId = "txn_" + identifiers.objectId(at: transition.at)
                add(.allscale, type: WebhookEventType.allScalePaymentConfirmed, at: transition.at) { _ in
                    CheckoutIntentWire.allScaleWebhook(intent, transactionId: transactionId, webhookId: webhookId).serialized
                }
            }
        }
        if let latePayment, let webhookId = target.webhookIds[.events] {
            add(.events, type: WebhookEventType.latePayment, at: latePayment) { id in
                WebhookBody.serialized(
                    eventId: id, type: WebhookEventType.latePayment, createdAt: CheckoutIntentWire.timestamp(latePayment), webhookId: webhookId,
                    data: CheckoutIntentWire.fullPayload(intent, checkoutURL: links.url(for: intent)))
            }
        }
        return events
    }
}
