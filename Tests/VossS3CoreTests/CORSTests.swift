import Testing
import VossS3Core

/// CORS rules: parsing as S3 checks them, and which rule a request matches.
@Suite struct CORSTests {
    static let doc = """
        <CORSConfiguration><CORSRule><ID>app</ID><AllowedOrigin>https://*.example.com</AllowedOrigin>
        <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader>
        <AllowedHeader>content-type</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
        <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule></CORSConfiguration>
        """

    @Test func aDocumentRoundTrips() throws {
        let rules = try CORS.parse(Array(Self.doc.utf8)).get()
        #expect(rules.count == 2 && rules[0].maxAgeSeconds == 600 && rules[0].allowedHeaders == ["x-amz-*", "content-type"])
        #expect(try CORS.parse(Array(CORS.xml(rules).utf8)).get() == rules)
    }

    @Test func rulesMatchOriginMethodAndHeaders() throws {
        let rules = try CORS.parse(Array(Self.doc.utf8)).get()
        #expect(CORS.rule(for: "https://app.example.com", method: "PUT", headers: ["X-Amz-Date", "Content-Type"], in: rules)?.id == "app")
        #expect(CORS.rule(for: "https://app.example.com", method: "PUT", headers: ["authorization"], in: rules) == nil)
        #expect(CORS.rule(for: "http://app.example.com", method: "GET", headers: [], in: rules) == nil)
        #expect(CORS.rule(for: "https://example.com", method: "GET", headers: [], in: rules) == nil)
        #expect(CORS.rule(for: "https://evil.org", method: "HEAD", headers: [], in: rules)?.allowedOrigins == ["*"])
        #expect(CORS.rule(for: "https://evil.org", method: "DELETE", headers: [], in: rules) == nil)
    }

    @Test func theAnswerHeadersFollowTheRule() throws {
        let rules = try CORS.parse(Array(Self.doc.utf8)).get()
        let h = Dictionary(uniqueKeysWithValues: CORS.responseHeaders(
            rules[0], origin: "https://a.example.com", method: "PUT", requestHeaders: ["content-type"], preflight: true))
        #expect(h["Access-Control-Allow-Origin"] == "https://a.example.com")
        #expect(h["Access-Control-Allow-Methods"] == "GET, PUT")
        #expect(h["Access-Control-Allow-Headers"] == "content-type")
        #expect(h["Access-Control-Max-Age"] == "600")
        #expect(h["Access-Control-Expose-Headers"] == "ETag")
        let star = Dictionary(uniqueKeysWithValues: CORS.responseHeaders(rules[1], origin: "https://x", method: "HEAD", requestHeaders: [], preflight: false))
        #expect(star["Access-Control-Allow-Origin"] == "*" && star["Access-Control-Allow-Credentials"] == nil)
    }

    @Test(arguments: [
        ("<CORSConfiguration/>", "MalformedXML"),
        ("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", "MalformedXML"),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>", "InvalidRequest"),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", "InvalidRequest"),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>", "MalformedXML"),
        ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>99999999999999999999</MaxAgeSeconds></CORSRule></CORSConfiguration>", "MalformedXML"),
        ("<Other/>", "MalformedXML"), ("not xml", "MalformedXML"),
    ])
    func badDocumentsAreRefused(_ doc: String, _ code: String) {
        guard case .failure(let e) = CORS.parse(Array(doc.utf8)) else {
            Issue.record("accepted \(doc)")
            return
        }
        #expect(e.code == code)
    }
}

extension CORSTests {
    /// Found by the fuzzer: a value with NUL (or CR/LF) would be stored and then written into
    /// response headers.
    @Test func valuesThatCannotBeHeadersAreRefused() {
        for bad in ["http\u{0}*.example.com", "a\r\nSet-Cookie: x=1", ""] {
            let doc = "<CORSConfiguration><CORSRule><AllowedOrigin>\(bad)</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
            guard case .failure(let e) = CORS.parse(Array(doc.utf8)) else {
                Issue.record("accepted \(bad.debugDescription)")
                continue
            }
            #expect(e.code == "InvalidRequest" || e.code == "MalformedXML")
        }
    }
}
