import Hummingbird
import StableGateDomain

/// Takes one request from the client address's budget of a ``ClientRateLimiter`` before the
/// routes of its group run, or answers 40001 ("rate limited") with `Retry-After`.
struct ClientRateLimitMiddleware<Context: GatewayContext>: RouterMiddleware {
    let limiter: ClientRateLimiter
    let clock: any WallClock
    /// What is counted, for the error message ("logins", "requests").
    var what = "requests"
    /// Only these methods count; nil counts all (the login pages' GETs cost nothing).
    var methods: Set<HTTPRequest.Method>?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if methods?.contains(request.method) ?? true,
            let wait = limiter.take(client: context.clientAddress ?? "unknown", now: clock.now)
        {
            throw APIError(.rateLimited, "too many \(what) from this address; retry in \(wait) s", retryAfterSeconds: wait)
        }
        return try await next(request, context)
    }
}
