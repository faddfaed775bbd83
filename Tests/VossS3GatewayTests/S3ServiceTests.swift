import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import VossBlobStore
import VossChecksums
import VossS3Core
import VossS3Store
import VossSQLite
import VossSigV4

@testable import VossS3Gateway

/// The S3 operations called as a service, with no socket: a real SQLite store and the local blob
/// store in a temp dir. One test per S3 error the operations answer, and the happy paths they guard.
@Suite struct S3ServiceTests {
    let service: S3Service
    let alice: Principal
    let bob: Principal
    let other: Principal

    init() async throws {
        let dir = NSTemporaryDirectory() + "voss-svc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let secretKey = SymmetricKey(size: .bits256)
        let store = try SQLMetadataStore.sqlite(path: dir + "/m.sqlite", secretKey: secretKey)
        let io = NIOThreadPool(numberOfThreads: 1)
        io.start()
        let state = GatewayState(
            store: store, platforms: PlatformSet(local: LocalPlatform(store: try LocalBlobStore(root: dir + "/objects", node: "t"), io: io), store: store),
            io: io, settings: GatewaySettings(),
            logger: Logger(label: "test"), secretKey: secretKey)
        service = S3Service(state: state)
        func principal(_ tenant: String, _ user: String) async throws -> Principal {
            if try await store.tenant(named: tenant) == nil { _ = try await store.createTenant(name: tenant) }
            _ = try await store.createUser(tenant: tenant, name: user, role: .tenantUser)
            let k = try await store.createKey(tenant: tenant, user: user)
            return try #require(try await store.principal(accessKey: k.accessKey))
        }
        alice = try await principal("acme", "alice")
        bob = try await principal("acme", "bob")
        other = try await principal("globex", "carol")
    }

    /// Routes like the gateway does, then calls the service.
    func call(
        _ method: String, _ path: String, query: String = "", headers: [(String, String)] = [], body: [UInt8] = [],
        as who: Principal?? = .none
    ) async throws -> S3Response {
        let q = SignedRequest(method: method, rawPath: path, rawQuery: query, headers: []).queryParameters
        var hs = headers
        if !body.isEmpty && !hs.contains(where: { $0.0.lowercased() == "content-length" }) { hs.append(("Content-Length", String(body.count))) }
        let target = try S3Router.target(host: "127.0.0.1", rawPath: path, serviceHost: nil).get()
        let op = try S3Router.operation(
            method: method, target: target, query: q, headers: { n in hs.first { $0.0.lowercased() == n }?.1 }
        ).get()
        let ctx = RequestContext(
            id: "T", method: method, headers: hs, rawPath: path, rawQuery: query, query: q, target: target, operation: op,
            principal: who ?? alice, auth: nil, tls: false, remote: "test")
        return try await service.handle(S3Call(ctx: ctx, body: BytesBody(body, piece: 7)))
    }

    func code(_ f: () async throws -> S3Response) async -> String? {
        do {
            _ = try await f()
            return nil
        } catch let e as S3Error {
            return e.code
        } catch {
            return "\(error)"
        }
    }

    func bytes(_ r: S3Response) -> [UInt8] {
        if case .bytes(let b) = r.body { return b }
        return []
    }

    func newBucket() async throws -> String {
        let name = "b-\(UInt32.random(in: 0...UInt32.max))"
        #expect(try await call("PUT", "/" + name).status == 200)
        return name
    }

    @Test func putGetDeleteRoundTrip() async throws {
        let b = try await newBucket()
        let data = Array("hello, service".utf8)
        let put = try await call("PUT", "/\(b)/k", body: data)
        #expect(put.status == 200)
        let get = try await call("GET", "/\(b)/k")
        guard case .object(let o, let first, let count, _) = get.body else { Issue.record("not an object body"); return }
        #expect(o.size == Int64(data.count) && first == 0 && count == Int64(data.count))
        #expect(get.headers.contains { $0.0 == "ETag" && $0.1 == "\"\(S3Service.hex(Array(Insecure.MD5.hash(data: data))))\"" })
        let head = try await call("HEAD", "/\(b)/k")
        #expect(head.headOnly && head.contentLength == Int64(data.count))
        #expect(try await call("GET", "/\(b)/k", headers: [("Range", "bytes=2-4")]).status == 206)
        #expect(try await call("DELETE", "/\(b)/k").status == 204)
        #expect(await code { try await call("GET", "/\(b)/k") } == "NoSuchKey")
    }

    @Test func bucketErrors() async throws {
        #expect(await code { try await call("GET", "/no-such-bucket-x") } == "NoSuchBucket")
        #expect(await code { try await call("PUT", "/Bad_Name") } == "InvalidBucketName")
        let b = try await newBucket()
        #expect(await code { try await call("PUT", "/" + b) } == "BucketAlreadyOwnedByYou")
        #expect(await code { try await call("PUT", "/" + b, as: other) } == "BucketAlreadyExists")
        _ = try await call("PUT", "/\(b)/k", body: [1])
        #expect(await code { try await call("DELETE", "/" + b) } == "BucketNotEmpty")
        #expect(await code { try await call("GET", "/\(b)", query: "tagging") } == "NoSuchTagSet")
        #expect(await code { try await call("GET", "/\(b)", query: "policy") } == "NoSuchBucketPolicy")
        #expect(await code { try await call("GET", "/\(b)", query: "max-keys=-1") } == "InvalidArgument")
        #expect(await code { try await call("POST", "/\(b)", query: "delete", body: Array("<nope".utf8)) } == "MalformedXML")
        #expect(await code { try await call("PUT", "/\(b)", query: "tagging", body: Array("<Tagging/>".utf8)) } == "MalformedXML")
    }

    @Test func accessErrors() async throws {
        let b = try await newBucket()
        _ = try await call("PUT", "/\(b)/k", body: [1])
        #expect(await code { try await call("GET", "/\(b)/k", as: other) } == "AccessDenied")
        #expect(await code { try await call("GET", "/\(b)/k", as: .some(nil)) } == "AccessDenied")
        #expect(await code { try await call("PUT", "/\(b)/x", body: [1], as: bob) } == "AccessDenied")
        #expect(await code { try await call("DELETE", "/\(b)", as: bob) } == "AccessDenied")
        #expect(await code { try await call("GET", "/", as: .some(nil)) } == "AccessDenied")
    }

    @Test func objectErrors() async throws {
        let b = try await newBucket()
        let data = Array(repeating: UInt8(7), count: 100)
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")], body: data) } == "BadDigest")
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("Content-MD5", "nope")], body: data) } == "InvalidDigest")
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("x-amz-checksum-crc32", "AAAAAA==")], body: data) } == "BadDigest")
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("Content-Length", "101")], body: data) } == "IncompleteBody")
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("x-amz-meta-a", String(repeating: "v", count: 3000))], body: data) }
            == "MetadataTooLarge")
        #expect(await code { try await call("PUT", "/\(b)/" + String(repeating: "k", count: 1025), body: data) } == "KeyTooLongError")
        _ = try await call("PUT", "/\(b)/k", body: data)
        #expect(await code { try await call("GET", "/\(b)/k", headers: [("Range", "bytes=500-")]) } == "InvalidRange")
        #expect(await code { try await call("GET", "/\(b)/k", headers: [("If-Match", "\"other\"")]) } == "PreconditionFailed")
        #expect(try await call("GET", "/\(b)/k", headers: [("If-None-Match", "*")]).status == 304)
        #expect(await code { try await call("PUT", "/\(b)/c", headers: [("x-amz-copy-source", "/\(b)/missing")]) } == "NoSuchKey")
        #expect(await code { try await call("GET", "/\(b)/k", query: "tagging&x=1", headers: []) } == nil)
        #expect(await code { try await call("PUT", "/\(b)/k", headers: [("x-amz-tagging", "a=%zz")], body: data) } == "InvalidTag")
    }

    @Test func multipartErrors() async throws {
        let b = try await newBucket()
        #expect(await code { try await call("PUT", "/\(b)/m", query: "partNumber=1&uploadId=nope", body: [1]) } == "NoSuchUpload")
        let created = String(decoding: bytes(try await call("POST", "/\(b)/m", query: "uploads")), as: UTF8.self)
        let id = try #require(created.split(separator: "<UploadId>").last?.split(separator: "<").first.map(String.init))
        #expect(await code { try await call("PUT", "/\(b)/m", query: "partNumber=0&uploadId=\(id)", body: [1]) } == "InvalidArgument")
        let part = try await call("PUT", "/\(b)/m", query: "partNumber=1&uploadId=\(id)", body: [1, 2, 3])
        let etag = try #require(part.headers.first { $0.0 == "ETag" }?.1)
        let wrong = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"0\"</ETag></Part></CompleteMultipartUpload>"
        #expect(await code { try await call("POST", "/\(b)/m", query: "uploadId=\(id)", body: Array(wrong.utf8)) } == "InvalidPart")
        let part2 = try await call("PUT", "/\(b)/m", query: "partNumber=2&uploadId=\(id)", body: [4])
        let etag2 = try #require(part2.headers.first { $0.0 == "ETag" }?.1)
        let order = "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>\(etag2)</ETag></Part><Part><PartNumber>1</PartNumber><ETag>\(etag)</ETag></Part></CompleteMultipartUpload>"
        #expect(await code { try await call("POST", "/\(b)/m", query: "uploadId=\(id)", body: Array(order.utf8)) } == "InvalidPartOrder")
        let ok = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\(etag)</ETag></Part></CompleteMultipartUpload>"
        #expect(try await call("POST", "/\(b)/m", query: "uploadId=\(id)", body: Array(ok.utf8)).status == 200)
        #expect(await code { try await call("DELETE", "/\(b)/m", query: "uploadId=\(id)") } == "NoSuchUpload")
    }

    @Test func anOverwriteReleasesTheOldBlobAfterTheAnswer() async throws {
        let b = try await newBucket()
        #expect(try await call("PUT", "/\(b)/k", body: [1]).after == nil)
        let second = try await call("PUT", "/\(b)/k", body: [2])
        #expect(second.after != nil)  // the first object's blob is deleted once the answer is out
        await second.after?()
    }
}
