// Fuzz targets for every parser that reads bytes from the network (issue 11). One binary, the
// target chosen by VOSS_FUZZ_TARGET (or the replay command's argument):
//
//   make fuzz                    builds with `-sanitize=fuzzer` and runs each target for a while
//   voss-fuzz replay DIR…        (normal build) runs every file under DIR through its target: the
//                                seed corpora in Fuzz/corpus/<target>/ are checked in the unit suite
//
// A target returns normally for any input; a trap (force-unwrap, overflow, out-of-bounds) is a bug.
import Crypto
import NIOCore
import NIOEmbedded
import NIOHTTP1
import VossBase
import VossChecksums
import VossCluster
import VossS3Core
import VossSigV4
import VossVIPCore
import VossWire

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "httpdate": httpDate, "sigv4": sigV4, "sigv2": sigV2, "awschunked": awsChunked, "xml": xml,
        "range": rangeAndConditions, "proxyv2": proxyV2, "gossip": gossip, "frame": frame, "routing": routing,
        "body": body, "upstream": upstream, "fasthead": fastHead,
    ]

    static let now = Date(timeIntervalSince1970: 1_369_353_600)
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    static func text(_ d: [UInt8]) -> String { String(decoding: d, as: UTF8.self) }

    /// Lines of the input (for request-shaped targets): method, path, query, then `name: value` headers.
    static func request(_ d: [UInt8]) -> SignedRequest {
        let lines = text(d).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var headers: [(String, String)] = []
        for l in lines.dropFirst(3) {
            let kv = l.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { headers.append((String(kv[0]), String(kv[1].drop(while: { $0 == " " })))) }
        }
        return SignedRequest(
            method: lines.first ?? "GET", rawPath: lines.count > 1 ? lines[1] : "/", rawQuery: lines.count > 2 ? lines[2] : "",
            headers: headers)
    }

    static func httpDate(_ d: [UInt8]) {
        let s = text(d)
        if let t = HTTPDate.parse(s) { _ = HTTPDate.format(t); _ = HTTPDate.iso(t); _ = HTTPDate.amz(t) }
        _ = HTTPDate.parseAmz(s)
        _ = ASCIIDecimal.int64(s)
    }

    static func sigV4(_ d: [UInt8]) {
        let r = request(d)
        let v = SigV4Verifier(region: "us-east-1")
        let result = v.verify(r, now: now) { ak, date, _ in
            SigV4.signingKey(secret: secret, date: date, region: "us-east-1")
        }
        if case .success(let ctx)? = result {
            var chain = ChunkSignatureChain(ctx)
            _ = chain.verifyChunk(dataSHA256Hex: SigV4.emptySHA256, signature: String(repeating: "0", count: 64))
        }
        _ = SigV4.canonicalQuery(rawQuery: r.rawQuery)
        _ = SigV4.canonicalURI(rawPath: r.rawPath)
    }

    static func sigV2(_ d: [UInt8]) {
        let r = request(d)
        _ = SigV2.verify(r, virtualHostBucket: r.header("x-bucket"), now: now) { _ in secret }
        _ = SigV2.claimedAccessKey(authorization: r.header("authorization"), query: r.queryParameters)
    }

    static func awsChunked(_ d: [UInt8]) {
        guard let first = d.first else { return }
        let body = Array(d.dropFirst())
        let cut = body.isEmpty ? 0 : Int(first) % (body.count + 1)
        for signed in [false, true] {
            var dec = AwsChunkedDecoder(signed: signed)
            do {
                for part in [body[..<cut], body[cut...]] {
                    let bytes = Array(part)
                    let events = try bytes.withUnsafeBytes { try dec.feed($0) }
                    for case .data(let r) in events { precondition(r.lowerBound >= 0 && r.upperBound <= bytes.count) }
                }
            } catch {}
        }
    }

    /// The body checks as the gateway runs them: any payload mode, the bytes cut in two at a point the
    /// first byte chooses (merged and split reads must agree).
    static func body(_ d: [UInt8]) {
        guard d.count >= 2 else { return }
        let mode = d[0] % 4
        let rest = Array(d.dropFirst(2))
        let cut = Int(d[1]) % (rest.count + 1)
        let key = SigV4.signingKey(secret: secret, date: "20130524", region: "us-east-1")
        let chain = ChunkSignatureChain(key: key, amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", seed: "00")
        func make() -> BodyVerifier {
            switch mode {
            case 0: BodyVerifier(payload: .streamingSigned(trailer: false), chunked: true, chain: chain, declared: nil, maxSize: 1 << 20, contentMD5: nil, check: nil)
            case 1: BodyVerifier(payload: .streamingSigned(trailer: true), chunked: true, chain: chain, declared: 10, maxSize: 1 << 20, contentMD5: nil,
                                 check: .init(algorithm: .crc32c, expected: nil, trailer: true))
            case 2: BodyVerifier(payload: .streamingUnsignedTrailer, chunked: true, chain: nil, declared: Int64(rest.count / 2), maxSize: 1 << 20,
                                 contentMD5: nil, check: .init(algorithm: .crc64nvme, expected: nil, trailer: true))
            default: BodyVerifier(payload: .sha256(SigV4.emptySHA256), chunked: false, chain: nil, declared: Int64(rest.count), maxSize: 1 << 20,
                                  contentMD5: Array(repeating: 0, count: 16), check: .init(algorithm: .crc32, expected: [0, 0, 0, 0], trailer: false))
            }
        }
        func run(_ parts: [ArraySlice<UInt8>]) -> (BodyVerifier.Outcome, [UInt8])? {
            var v = make()
            var out: [UInt8] = []
            do {
                for p in parts { try Array(p).withUnsafeBytes { try v.feed($0) { out += $0 } } }
                return (try v.finish(), out)
            } catch {
                return nil  // which error comes first may depend on the split; that one does is what counts
            }
        }
        let whole = run([rest[...]])
        let split = run([rest[..<cut], rest[cut...]])
        precondition(whole?.0 == split?.0 && whole?.1 == split?.1, "a split read changed the outcome")
    }

    static func xml(_ d: [UInt8]) {
        guard let root = try? XMLParser.parse(d) else { return }
        _ = root.childText("Key")
        _ = root.all("Object").map { $0.childText("Key") }
        _ = Tags.parseXML(d, max: 50)
        // CORS rules: a parsed document must survive its own XML and match without trapping.
        if case .success(let rules) = CORS.parse(d) {
            precondition((try? CORS.parse(Array(CORS.xml(rules).utf8)).get()) == rules, "CORS XML does not round-trip")
            let t = text(d)
            _ = CORS.rule(for: t, method: "GET", headers: CORS.headerList(t), in: rules)
        }
        // Default bucket encryption: a parsed document survives its own XML.
        if case .success(let e) = BucketEncryption.parse(d) {
            precondition((try? BucketEncryption.parse(Array(e.xml.utf8)).get()) == e, "bucket encryption XML does not round-trip")
        }
        // Lifecycle rules: a parsed document survives its own XML; decisions never trap.
        if case .success(let rules) = Lifecycle.parse(d) {
            precondition((try? Lifecycle.parse(Array(Lifecycle.xml(rules).utf8)).get()) == rules, "lifecycle XML does not round-trip")
            _ = Lifecycle.currentExpires(rules, key: text(d), size: Int64(d.count), tags: [:], modified: now, now: now)
            _ = Lifecycle.noncurrentExpires(rules, key: text(d), size: 1, tags: [:], since: .distantPast, newer: d.count, now: .distantFuture)
        }
        // POST object: the form reader gives the same events however the body is split; the policy parses.
        if case .success(let p) = PostPolicy.parse(base64: text(d)) {
            _ = p.check(fields: ["key": text(d)], now: now)
            _ = p.checkSize(Int64(d.count))
        }
        func form(_ cut: Int) -> ([FormDataReader.Event], Bool) {
            var r = FormDataReader(boundary: "b", maxField: 256)
            var events: [FormDataReader.Event] = []
            var data: [UInt8] = []
            do {
                for piece in [d[..<cut], d[cut...]] {
                    try piece.withUnsafeBytes { p in
                        try r.feed(p) { e in if case .data(let x) = e { data += x } else { events.append(e) } }
                    }
                }
                try r.finish()
            } catch { return (events + [.data(data)], false) }
            return (events + [.data(data)], true)
        }
        let whole = form(0), split = form(d.count / 2)
        precondition(whole.1 == split.1 && (!whole.1 || whole.0 == split.0), "a split changed the form")
        // Bucket policies (JSON): parsing and evaluating against values taken from the input.
        if case .success(let policy) = BucketPolicy.parse(d, bucket: "b") {
            let t = text(d)
            let request = BucketPolicy.Request(
                action: "s3:GetObject", resource: "arn:aws:s3:::b/" + t, tenantID: t, userID: t, userName: t, ownerTenantID: "T",
                keys: ["aws:sourceip": [t, "10.0.0.1", "::1"], "s3:prefix": [t], "s3:max-keys": [t], "aws:currenttime": [t]])
            _ = policy.evaluate(request)
            _ = policy.isPublic
        }
    }

    static func rangeAndConditions(_ d: [UInt8]) {
        let parts = text(d).split(separator: "\n", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        func p(_ i: Int) -> String? { i < parts.count ? parts[i] : nil }
        let size = Int64(d.count * 977)
        _ = RangeHeader.evaluate(p(0), size: size)
        _ = RangeHeader.evaluate(p(0), size: 0)
        _ = Preconditions.evaluate(
            ifMatch: p(1), ifNoneMatch: p(2), ifModifiedSince: p(3), ifUnmodifiedSince: p(4), etag: "abc", lastModified: now)
        if let h = p(5) { _ = Tags.parseHeader(h) }
    }

    static func proxyV2(_ d: [UInt8]) {
        if case .header(let length, _) = ProxyProtocolV2.parse(d) { precondition(length <= d.count) }
        // The same bytes after a valid signature, so the fuzzer need not find it.
        let sig: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
        let withSig = sig + d
        if case .header(let length, _) = ProxyProtocolV2.parse(withSig) { precondition(length <= withSig.count) }
    }

    static let codec = GossipCodec(clusterKey: SymmetricKey(data: [UInt8](repeating: 7, count: 32)), label: "fuzz")

    static func gossip(_ d: [UInt8]) {
        // Raw bytes from any sender, then the same bytes as an authenticated payload (a member with
        // the key that sends nonsense).
        _ = try? codec.openPacket(d)
        _ = try? codec.openState(d)
        let sealed = codec.seal(d)
        _ = try? codec.openPacket(sealed)
        _ = try? codec.openState(sealed)
        _ = JoinToken.decode(text(d))
    }

    static func frame(_ d: [UInt8]) {
        var dec = FrameDecoder()
        let cut = d.isEmpty ? 0 : Int(d[0]) % (d.count + 1)
        dec.append(d[..<cut])
        _ = try? dec.next()
        dec.append(d[cut...])
        while let f = try? dec.next() { _ = f.count }
    }

    /// What an S3 upstream answers (XML bodies, ETags) and the platform URLs VOSS parses.
    static func upstream(_ d: [UInt8]) {
        _ = UpstreamAnswers.error(d)
        _ = UpstreamAnswers.bucketNames(d)
        _ = UpstreamAnswers.uploadID(d)
        _ = UpstreamAnswers.result(d)
        if let page = UpstreamAnswers.parts(d) {
            var offset: Int64 = 0
            for p in page.parts { offset = offset.addingReportingOverflow(p.size).partialValue }
        }
        _ = UpstreamAnswers.uploads(d, key: "k")
        _ = UpstreamAnswers.etag(text(d))
        _ = UpstreamEndpoint.parse(text(d))
    }

    /// The gateway's strict request-head reader, held to NIO's HTTP decoder: a head it accepts is one
    /// NIO reads the same way (method, target, headers, keep-alive) and ends at the same byte, with no
    /// body; every shorter piece of it is incomplete (never answered early).
    static func fastHead(_ d: [UInt8]) {
        guard case .request(let head) = d.withUnsafeBytes({ StrictRequestHead.parse($0) }) else { return }
        precondition(head.length > 0 && head.length <= d.count, "head length out of range")
        for cut in [head.length - 1, head.length / 2, head.length - 2, 1] where cut > 0 && cut < head.length {
            guard case .incomplete = d[..<cut].withUnsafeBytes({ StrictRequestHead.parse($0) }) else {
                preconditionFailure("a piece of an accepted head is not incomplete")
            }
        }
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            try channel.writeInbound(channel.allocator.buffer(bytes: d[..<head.length]))
        } catch {
            preconditionFailure("NIO refuses a head the strict reader accepts: \(error)")
        }
        guard case .head(let h)? = try? channel.readInbound(as: HTTPServerRequestPart.self),
            case .end(nil)? = try? channel.readInbound(as: HTTPServerRequestPart.self),
            (try? channel.readInbound(as: HTTPServerRequestPart.self)) == nil
        else { preconditionFailure("NIO does not read exactly one bodiless request") }
        precondition(h.method.rawValue == (head.method == .get ? "GET" : "HEAD"), "method differs")
        precondition(h.uri == head.target, "target differs")
        precondition(h.version == .http1_1, "version differs")
        precondition(h.isKeepAlive == head.keepAlive, "keep-alive differs")
        let theirs = h.headers.map { [$0.name, $0.value] }
        let ours = head.headers.map { [$0.0, $0.1] }
        precondition(theirs == ours, "headers differ: \(theirs) vs \(ours)")
    }

    static func routing(_ d: [UInt8]) {
        let r = request(d)
        switch S3Router.target(host: r.header("host"), rawPath: r.rawPath, serviceHost: "s3.example.com") {
        case .success(let t):
            _ = S3Router.operation(method: r.method, target: t, query: r.queryParameters, headers: { r.header($0) })
            if let k = t.key { _ = S3Names.keyProblem(k) }
            if let b = t.bucket { _ = S3Names.bucketProblem(b) }
        case .failure: break
        }
        _ = ObjectHeaders.from(r.headers)
        // Metadata words: decoding never traps, and encoding is always undone by decoding.
        for (_, v) in r.headers {
            _ = MIMEWords.decode(v)
            precondition(MIMEWords.decode(MIMEWords.encode(v)) == v || MIMEWords.encode(v) == v, "RFC 2047 word does not round-trip")
        }
        // The control API's route table matches raw paths too.
        for route in Routes.all { _ = route.match(method: r.method, rawPath: r.rawPath + (r.rawQuery.isEmpty ? "" : "?" + r.rawQuery)) }
        // And the REST API's (the same matcher, on paths from any client).
        for route in PublicRoutes.all { _ = route.match(method: r.method, rawPath: r.rawPath) }
    }
}

#if FUZZING
let selected: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["VOSS_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.all[name] else {
        fatalError("VOSS_FUZZ_TARGET must be one of: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))")
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's entry point under the module's name (`main` is an alias of it), so
/// the fuzzing build provides that entry and hands over to libFuzzer's driver.
@_cdecl("voss_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzOne(data, size) }
}
#else
/// Replay: `voss-fuzz replay DIR…` where each DIR is Fuzz/corpus/<target> (or its parent).
@main
enum Replay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard args.first == "replay", args.count >= 2 else {
            print("usage: voss-fuzz replay CORPUS_DIR…   (targets: \(FuzzTargets.all.keys.sorted().joined(separator: ", ")))")
            exit(2)
        }
        var ran = 0
        for dir in args.dropFirst() {
            let url = URL(fileURLWithPath: dir)
            let targets: [(String, URL)] =
                FuzzTargets.all[url.lastPathComponent] != nil
                ? [(url.lastPathComponent, url)]
                : FuzzTargets.all.keys.sorted().map { ($0, url.appendingPathComponent($0)) }
            for (name, d) in targets {
                guard let run = FuzzTargets.all[name],
                    let files = try? FileManager.default.contentsOfDirectory(atPath: d.path)
                else { continue }
                for f in files.sorted() {
                    guard let data = FileManager.default.contents(atPath: d.appendingPathComponent(f).path) else { continue }
                    run(Array(data))
                    ran += 1
                }
            }
        }
        print("replayed \(ran) inputs without a trap")
        exit(ran > 0 ? 0 : 1)
    }
}
#endif
