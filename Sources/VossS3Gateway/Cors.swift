import VossBase
import VossS3Core
import VossS3Store

/// CORS: the bucket's rules (Put/Get/DeleteBucketCors), preflight `OPTIONS`, and the headers on the
/// answers to requests that carry an `Origin` (errors included, so a browser app can read them).
extension S3Service {
    func bucketCors(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        switch ex.ctx.operation {
        case .getBucketCors:
            guard let rules = b.settings.cors else {
                throw S3Error(
                    "NoSuchCORSConfiguration", status: 404, message: "The CORS configuration does not exist", details: [("BucketName", b.name)])
            }
            return .xml(CORS.xml(rules))
        case .putBucketCors:
            let body = try await readSmallBody(ex, limit: 64 << 10)
            b.settings.cors = try CORS.parse(body).get()
            try await state.store.updateBucket(b)
            return .status(200)
        default:
            b.settings.cors = nil
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
