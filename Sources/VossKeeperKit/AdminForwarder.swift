import Foundation
import NIOHTTP1
import NIOPosix
import VossBase
import VossHTTP
import VossPosix
import VossWire

/// Forwards identity requests (`/v1/tenants…`, `/v1/keys…`) to the S3 gateway's admin Unix socket:
/// the gateway owns the metadata store, so there is one writer for it.
struct AdminForwarder: Sendable {
    let socket: String?
    let pool: NIOThreadPool

    func forward(_ request: HTTPRequest, adminPath: String) async -> HTTPResponse {
        guard let socket else {
            return .json(APIErrorBody(code: "unavailable", message: Message("s3.not_configured")), status: .serviceUnavailable)
        }
        let method = request.method.rawValue
        let body = request.body
        do {
            let r = try await pool.runIfActive {
                try BlockingHTTP.request(
                    unixPath: socket, method: method, path: adminPath, headers: [("Content-Type", "application/json")],
                    body: body, timeout: .seconds(30))
            }
            var h = HTTPHeaders()
            h.add(name: "Content-Type", value: r.header("content-type") ?? "application/json")
            return HTTPResponse(status: HTTPResponseStatus(statusCode: r.status), headers: h, body: r.body)
        } catch {
            return .json(APIErrorBody(code: "unavailable", message: Message("s3.not_running", "\(error)")), status: .serviceUnavailable)
        }
    }
}
