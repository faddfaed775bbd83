import VossBase
import VossHTTP
import VossWire

/// The workers: show, start, stop, restart.
extension ControlAPI {
    func serviceRoutes(_ r: inout ControlRouter) {
        r.on(Routes.serviceShow) { _, _ in await supervisor.show() }
        r.on(Routes.serviceControl) { call, body in
            let req: Supervisor.Request
            switch call["verb"] {
            case "start": req = .start
            case "stop": req = .stop
            case "restart": req = .restart
            default: throw ControlFailure.notFound(Message("api.no_route", "POST", call.request.path))
            }
            try await supervisor.request(req, worker: body.worker, logLevel: body.debug == true ? "debug" : nil)
            try saveState(await supervisor.nodeState)
            return await supervisor.show()
        }
    }
}
