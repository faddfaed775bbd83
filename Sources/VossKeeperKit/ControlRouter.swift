import Foundation
import NIOHTTP1
import VossHTTP
import VossWire

/// One call to a control route: the request and the route's path parameters.
struct ControlCall: Sendable {
    let request: HTTPRequest
    let params: [String: String]

    subscript(_ name: String) -> String { params[name] ?? "" }
    func query(_ name: String) -> String? { request.query[name] }
    /// `?withSecret=true` (`ose … show --with-secret`).
    var withSecret: Bool { ["1", "true", "yes"].contains(query("withSecret")?.lowercased() ?? "") }
}

/// A request body that is not the JSON its route expects (400 `bad_request`).
struct DecodingFailure: Error { var detail: String }

/// The keeper's side of the route table: each route of `VossWire.Routes` with its handler. Bodies are
/// decoded to the route's request type and answers encoded from its response type, so a handler
/// cannot drift from what `ose` sends and expects.
struct ControlRouter: Sendable {
    typealias Handler = @Sendable (ControlCall) async throws -> HTTPResponse
    private(set) var entries: [(route: AnyControlRoute, handler: Handler)] = []

    mutating func on<B, R>(_ route: ControlRoute<B, R>, _ handler: @escaping @Sendable (ControlCall, B) async throws -> R) {
        entries.append(
            (
                route.erased,
                { call in
                    let body: B
                    if let none = NoBody() as? B {
                        body = none
                    } else {
                        do { body = try call.request.decodeJSON(B.self) } catch { throw DecodingFailure(detail: "\(error)") }
                    }
                    return .json(try await handler(call, body))
                }
            ))
    }

    /// Routes answered by another component as they are (the identity routes, by the gateway).
    mutating func pass(_ routes: [AnyControlRoute], to handler: @escaping Handler) {
        for r in routes { entries.append((r, handler)) }
    }

    /// The handler's answer, or `nil` when no route matches.
    func dispatch(_ request: HTTPRequest) async throws -> HTTPResponse? {
        let path = request.uri
        for e in entries {
            if let params = e.route.match(method: request.method.rawValue, rawPath: path) {
                return try await e.handler(ControlCall(request: request, params: params))
            }
        }
        return nil
    }

    var routes: Set<AnyControlRoute> { Set(entries.map(\.route)) }
}
