import Testing

@testable import VossWire

/// The control route table: paths built by `ose` are the paths the keeper matches, whatever the
/// parameters hold, and no request matches two routes.
@Suite struct RoutesTests {
    static let awkward = ["plain", "with/slash", "sp ace", "ключ", "100%", "a?b&c=d", "..", "x+y"]

    @Test func eachRouteMatchesWhatItBuilds() {
        for route in Routes.all {
            let params = Dictionary(uniqueKeysWithValues: route.template.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                (String($0.dropFirst().dropLast()), "p-" + $0.dropFirst().dropLast())
            })
            let typed = ControlRoute<NoBody, NoBody>(route.method, route.template)
            let path = typed.path(params)
            #expect(route.match(method: route.method, rawPath: path) == params, "\(route)")
            #expect(route.match(method: route.method == "GET" ? "PUT" : "GET", rawPath: path) == nil || route.method == "GET")
        }
    }

    @Test(arguments: awkward) func parametersSurviveTheTripWhateverTheyHold(_ value: String) {
        let path = Routes.userDelete.path(["tenant": value, "user": value + "2"])
        #expect(Routes.userDelete.match(method: "DELETE", rawPath: path) == ["tenant": value, "user": value + "2"])
        let withQuery = Routes.argGet.path(["key": value], query: [("withSecret", "true")])
        #expect(Routes.argGet.match(method: "GET", rawPath: withQuery) == ["key": value])
    }

    @Test func noRequestMatchesTwoRoutes() {
        for route in Routes.all {
            let typed = ControlRoute<NoBody, NoBody>(route.method, route.template)
            let path = typed.path(["key": "k", "verb": "start", "tenant": "t", "user": "u", "name": "n", "service": "s3"])
            let matching = Routes.all.filter { $0.match(method: route.method, rawPath: path) != nil }
            #expect(matching == [route], "\(route) also matches \(matching)")
        }
        #expect(Set(Routes.all).count == Routes.all.count)
    }

    @Test func malformedPathsMatchNothing() {
        for bad in ["/v1/args/%zz", "/v1/args/%C3", "/v2/args/k", "/v1/args/k/extra", "", "/"] {
            #expect(Routes.all.allSatisfy { $0.match(method: "GET", rawPath: bad) == nil }, "\(bad)")
        }
        // Empty segments are not parameters: these name the list, as they always did.
        for lenient in ["/v1/args/", "/v1//args"] {
            #expect(Routes.argsList.match(method: "GET", rawPath: lenient) == [:])
            #expect(Routes.argGet.match(method: "GET", rawPath: lenient) == nil)
        }
    }
}
