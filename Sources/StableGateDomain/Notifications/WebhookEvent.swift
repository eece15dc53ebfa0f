/// Where a store's webhook events go (README "Webhooks").
public enum WebhookEndpoint: String, Sendable, CaseIterable {
    /// The store's webhook URL: AllScale-format deliveries (docs/WIRE-CONTRACT.md §7.1), sent for a
    /// confirmed payment and nothing else, because published integrations fulfil the order on
    /// any delivery that verifies.
    case allscale
    /// The store's StableGate events URL: every transition, late payments and test events in
    /// StableGate's envelope, signed the same way.
    case events

    /// How the dashboard and the CLI name it.
    public var title: String {
        switch self {
        case .allscale: "webhook URL (AllScale format)"
        case .events: "StableGate events URL"
        }
    }
}

/// Webhook event types and the body every event is sent with.
///
/// On the events endpoint an intent's events are named after the status it moved to
/// (`checkout_intent.confirmed`, …), plus `checkout_intent.late_payment` when money arrives
/// after the window, and `webhook.test` for test events sent by the merchant. On the AllScale
/// endpoint the only type is ``allScalePaymentConfirmed``.
public enum WebhookEventType {
    public static let latePayment = "checkout_intent.late_payment"
    public static let test = "webhook.test"
    /// The AllScale-format delivery of a confirmed payment (the type is not sent; it names the
    /// event in the dashboard and the CLI).
    public static let allScalePaymentConfirmed = "allscale.payment_confirmed"

    /// The event type of a transition to `status`.
    public static func transition(to status: CheckoutStatus) -> String {
        "checkout_intent." + status.name.lowercased()
    }

    /// Every type an intent can produce on the events endpoint, for documentation and tests.
    public static var all: [String] {
        CheckoutStatus.allCases.map(transition(to:)) + [latePayment, test]
    }
}

/// The JSON body of a StableGate event: `{"event_id", "type", "created_at", "webhook_id",
/// "data"}`, keys in that order; `data` is the same object as the Open API's full GET of the
/// intent.
public enum WebhookBody {
    public static func serialized(eventId: String, type: String, createdAt: String, webhookId: String, data: JSONValue) -> String {
        JSONValue.object([
            ("event_id", .string(eventId)), ("type", .string(type)), ("created_at", .string(createdAt)), ("webhook_id", .string(webhookId)),
            ("data", data),
        ]).serialized
    }

    /// `body` with its top-level `webhook_id` set to `webhookId`, members otherwise unchanged
    /// and in order: a delivery always names the endpoint's current id, also when the merchant
    /// asked for a new one after the event was queued. nil when `body` is not a JSON object.
    public static func naming(webhookId: String, in body: String) -> String? {
        guard case .object(var members)? = try? JSONParser.parse(body) else { return nil }
        if let index = members.firstIndex(where: { $0.0 == "webhook_id" }) {
            guard members[index].1 != .string(webhookId) else { return body }
            members[index].1 = .string(webhookId)
        } else {
            members.append(("webhook_id", .string(webhookId)))
        }
        return JSONValue.object(members).serialized
    }
}
