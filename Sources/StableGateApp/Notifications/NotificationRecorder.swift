import SQLKit
import StableGateDomain
import StableGateStore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes the notifications an intent's change causes into the outboxes, inside the change's
/// own transaction (a transactional outbox: the change and its notifications commit together
/// or not at all, so a crash can neither lose an event nor announce a change that rolled back).
///
/// - a webhook event for every status transition and for every late payment, when the store
///   has a webhook URL; its body carries the intent as the full GET shows it after the change;
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
            if target.webhookURL != nil {
                events.append(event(intent, type: WebhookEventType.transition(to: transition.to), sequence: 1, at: transition.at))
            }
            if emailsEnabled, !target.emails.isEmpty {
                try await EmailOutboxRepository.enqueue(
                    id: identifiers.objectId(at: transition.at), storeId: intent.storeId, intentId: intent.id, kind: .orderCreated,
                    recipients: target.emails, at: transition.at, on: db)
            }
        }
        try await WebhookRepository.enqueue(events, on: db)
    }

    func intentChanged(from before: CheckoutIntent, to after: CheckoutIntent, transitions: [StatusTransition], on db: any SQLDatabase) async throws {
        var types = transitions.map { (type: WebhookEventType.transition(to: $0.to), at: $0.at) }
        if let late = after.latePaidAmount, late > (before.latePaidAmount ?? .zero) {
            types.append((WebhookEventType.latePayment, after.updatedAt))
        }
        guard !types.isEmpty, let target = try await MerchantRepository.notificationTargets(storeIds: [after.storeId], on: db)[after.storeId] else {
            return
        }
        if target.webhookURL != nil {
            let first = try await WebhookRepository.nextSequence(intentId: after.id, on: db)
            try await WebhookRepository.enqueue(
                types.enumerated().map { event(after, type: $0.element.type, sequence: first + Int64($0.offset), at: $0.element.at) }, on: db)
        }
        if emailsEnabled, !target.emails.isEmpty, let confirmed = transitions.first(where: { $0.to == .confirmed }) {
            try await EmailOutboxRepository.enqueue(
                id: identifiers.objectId(at: confirmed.at), storeId: after.storeId, intentId: after.id, kind: .orderConfirmed,
                recipients: target.emails, at: confirmed.at, on: db)
        }
    }

    private func event(_ intent: CheckoutIntent, type: String, sequence: Int64, at date: Date) -> NewWebhookEvent {
        let id = "evt_" + identifiers.objectId(at: date)
        let data = CheckoutIntentWire.fullPayload(intent, checkoutURL: links.url(for: intent))
        return NewWebhookEvent(
            id: id, storeId: intent.storeId, intentId: intent.id, sequence: sequence, type: type,
            body: WebhookBody.serialized(eventId: id, type: type, createdAt: CheckoutIntentWire.timestamp(date), data: data), createdAt: date)
    }
}
