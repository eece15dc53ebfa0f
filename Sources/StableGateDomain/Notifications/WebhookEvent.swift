/// Webhook event types and the body every event is sent with.
///
/// An intent's events are named after the status it moved to
/// (`checkout_intent.confirmed`, …), plus `checkout_intent.late_payment` when money arrives
/// after the window, and `webhook.test` for test events sent by the merchant.
public enum WebhookEventType {
    public static let latePayment = "checkout_intent.late_payment"
    public static let test = "webhook.test"

    /// The event type of a transition to `status`.
    public static func transition(to status: CheckoutStatus) -> String {
        "checkout_intent." + status.name.lowercased()
    }

    /// Every type an intent can produce, for documentation and tests.
    public static var all: [String] {
        CheckoutStatus.allCases.map(transition(to:)) + [latePayment, test]
    }
}

/// The JSON body of a webhook request: `{"event_id", "type", "created_at", "data"}`, keys in
/// that order; `data` is the same object as the Open API's full GET of the intent.
public enum WebhookBody {
    public static func serialized(eventId: String, type: String, createdAt: String, data: JSONValue) -> String {
        JSONValue.object([("event_id", .string(eventId)), ("type", .string(type)), ("created_at", .string(createdAt)), ("data", data)]).serialized
    }
}
