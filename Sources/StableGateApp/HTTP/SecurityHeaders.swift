import HTTPTypes
import Hummingbird

/// The security headers of everything the gateway serves besides the API's JSON, in one place:
/// what may load, framing, sniffing, referrers and caching, per kind of response.
enum SecurityHeaders {
    /// A server-rendered page: its own scripts and styles only, never framed, never cached.
    case page
    /// The API reference page: inline styles only, no scripts.
    case referencePage
    /// A static asset (stylesheet, script): cacheable for ever, its URL carries the version.
    case asset
    /// A store's logo: an image, shown by the checkout page, cacheable for a day.
    case image

    static let pagePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Adds this kind's headers to `headers`.
    func apply(to headers: inout HTTPFields) {
        headers[.xContentTypeOptions] = "nosniff"
        switch self {
        case .page:
            headers[.cacheControl] = "no-store"
            headers[.contentSecurityPolicy] = Self.pagePolicy
            headers[.xFrameOptions] = "DENY"
            headers[.referrerPolicy] = "no-referrer"
        case .referencePage:
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        case .asset:
            headers[.cacheControl] = "public, max-age=31536000, immutable"
        case .image:
            headers[.cacheControl] = "public, max-age=86400"
            headers[.contentSecurityPolicy] = "default-src 'none'"
        }
    }

    /// A `200`-style response of `bytes` with `contentType` and this kind's headers.
    func response(_ bytes: ByteBuffer, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        apply(to: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: bytes))
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
