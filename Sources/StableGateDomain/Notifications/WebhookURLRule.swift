import Foundation

/// Where webhooks may be sent: an absolute URL without credentials; `https` outside the
/// sandbox (connect-time checks against private addresses come with the webhook sender).
public enum WebhookURLRule {
    /// Why `text` cannot be a webhook URL, or nil when it can.
    public static func problem(_ text: String, sandbox: Bool) -> String? {
        guard text.count <= 2048, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return "must be an absolute URL such as https://shop.example/webhook" }
        if components.user != nil || components.password != nil { return "must not contain credentials" }
        if scheme == "https" || (scheme == "http" && sandbox) { return nil }
        return scheme == "http" ? "must use https" : "must use https, not \(scheme)"
    }
}
