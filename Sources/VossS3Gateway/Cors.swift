import VossBase
import VossS3Core
import VossS3Store

/// CORS: the bucket's rules (Put/Get/DeleteBucketCors), preflight `OPTIONS`, and the headers on the
/// answers to requests that carry an `Origin` (errors included, so a browser app can read them).
extension S3Service {
    func bucketCors(_ ex: S3Call) async throws -> S3Response {
        try await bucketSetting(
            ex, \.cors, missing: "NoSuchCORSConfiguration", "The CORS configuration does not exist", render: { .xml(CORS.xml($0)) },
            parse: { body, _ in try CORS.parse(body).get() })
    }

    /// Get/Put/Delete of one kind of bucket configuration kept in `buckets.settings`: GET renders it
    /// (or answers `missing` with 404), PUT parses the body (nothing changes if it is refused),
    /// DELETE removes it.
    func bucketSetting<T: Sendable>(
        _ ex: S3Call, _ path: WritableKeyPath<BucketSettings, T?>, missing code: String, _ message: String, limit: Int = 64 << 10,
        putStatus: Int = 200, render: (T) -> S3Response, parse: ([UInt8], BucketRecord) throws -> T
    ) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        switch ex.ctx.method {
        case "GET", "HEAD":
            guard let v = b.settings[keyPath: path] else { throw S3Error(code, status: 404, message: message, details: [("BucketName", b.name)]) }
            return render(v)
        case "PUT":
            let body = try await readSmallBody(ex, limit: limit)
            b.settings[keyPath: path] = try parse(body, b)
            try await state.store.updateBucket(b)
            return .status(putStatus)
        default:
            b.settings[keyPath: path] = nil
            try await state.store.updateBucket(b)
            return .status(204)
        }
    }

    /// A preflight: which rule allows the origin, method and headers the browser asks about.
    func preflight(_ ex: S3Call) async throws -> S3Response {
        guard let origin = ex.ctx.header("origin") else {
            throw S3Error("BadRequest", status: 400, message: "Insufficient information. Origin request header needed.")
        }
        guard let method = ex.ctx.header("access-control-request-method") else {
            throw S3Error("BadRequest", status: 400, message: "Invalid Access-Control-Request-Method: null")
        }
        let forbidden = S3Error("AccessForbidden", status: 403, message: "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.", details: [("Method", method), ("ResourceType", ex.ctx.target.key == nil ? "BUCKET" : "OBJECT")])
        guard let b = try await state.store.bucket(named: ex.ctx.bucket) else { throw S3Error.noSuchBucket(ex.ctx.bucket) }
        let headers = CORS.headerList(ex.ctx.header("access-control-request-headers"))
        guard let rules = b.settings.cors, let rule = CORS.rule(for: origin, method: method, headers: headers, in: rules) else {
            throw forbidden
        }
        return .status(200, headers: CORS.responseHeaders(rule, origin: origin, method: method, requestHeaders: headers, preflight: true))
    }

    /// The CORS headers for an actual request from a browser (`Origin` sent), if the bucket allows it.
    func corsHeaders(_ ctx: RequestContext) async -> [(String, String)] {
        guard let origin = ctx.header("origin"), ctx.operation != .preflight, let name = ctx.target.bucket,
            let b = try? await state.store.bucket(named: name), let rules = b.settings.cors
        else { return [] }
        let method = ctx.method == "HEAD" ? "HEAD" : ctx.method
        guard let rule = CORS.rule(for: origin, method: method, headers: [], in: rules) else { return [] }
        return CORS.responseHeaders(rule, origin: origin, method: method, requestHeaders: [], preflight: false)
    }
}
