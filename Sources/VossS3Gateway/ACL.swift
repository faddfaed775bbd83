import VossBase
import Foundation
import VossS3Core
import VossS3Store

/// ACLs: every canned ACL, `x-amz-grant-*` grants and AccessControlPolicy documents, on buckets and
/// objects; bucket ownership controls (BucketOwnerEnforced turns ACLs off, as S3 does).
extension S3Service {
    static let allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
    static let authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    static let logDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    static let aclNotSupported = S3Error("AccessControlListNotSupported", status: 400, message: "The bucket does not allow ACLs")

    /// Canned ACL and grants from the request's headers, or `nil` when none given.
    func policyFromHeaders(_ ex: S3Call) throws -> AccessPolicy? { try accessPolicy { ex.ctx.header($0) } }

    /// A canned ACL (`x-amz-acl`) and grants (`x-amz-grant-read|write|read-acp|write-acp|full-control`:
    /// `id="TENANT-OR-USER-ID"`, `uri="…/AllUsers"`, `uri="…/AuthenticatedUsers"`), or `nil`.
    func accessPolicy(_ value: (String) -> String?) throws -> AccessPolicy? {
        let names = ["x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"]
        let acl = value("x-amz-acl")
        guard acl != nil || names.contains(where: { value($0) != nil }) else { return nil }
        if acl != nil && names.contains(where: { value($0) != nil }) {
            throw S3Error.invalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
        }
        var policy = AccessPolicy()
        if let acl {
            guard let c = AccessPolicy.Canned(rawValue: acl) else {
                throw S3Error.invalidArgument("The canned ACL '\(acl)' is not valid.", name: "x-amz-acl", value: acl)
            }
            policy.canned = c
            return policy
        }
        var lists: [String: [String]] = [:]
        for name in names {
            guard let h = value(name) else { continue }
            for item in h.split(separator: ",") {
                let t = item.trimmingCharacters(in: .whitespaces)
                guard let eq = t.firstIndex(of: "=") else { throw S3Error.invalidArgument("Invalid grantee \(t).", name: name, value: t) }
                let kind = t[..<eq].lowercased()
                let v = String(t[t.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                switch kind {
                case "id": lists[name, default: []].append(v)
                case "uri":
                    try group(v, permission: String(name.dropFirst("x-amz-grant-".count)).uppercased().replacingOccurrences(of: "-", with: "_"), into: &policy)
                case "emailaddress":
                    throw S3Error("UnresolvableGrantByEmailAddress", message: "The e-mail address you provided does not match any account on record.")
                default: throw S3Error.invalidArgument("Invalid grantee type \(kind).", name: name, value: t)
                }
            }
        }
        policy.readTenants = lists["x-amz-grant-read"] ?? []
        policy.writeTenants = lists["x-amz-grant-write"] ?? []
        policy.readACP = lists["x-amz-grant-read-acp"]
        policy.writeACP = lists["x-amz-grant-write-acp"]
        policy.fullControl = lists["x-amz-grant-full-control"]
        return policy
    }

    /// A grant to a group, as the canned ACL that expresses it.
    func group(_ uri: String, permission: String, into p: inout AccessPolicy) throws {
        switch (uri, permission) {
        case (Self.allUsers, "READ"): p.canned = p.canned == .publicReadWrite ? .publicReadWrite : .publicRead
        case (Self.allUsers, "WRITE"), (Self.allUsers, "FULL_CONTROL"): p.canned = .publicReadWrite
        case (Self.authenticatedUsers, "READ"): p.canned = .authenticatedRead
        case (Self.logDelivery, "WRITE"), (Self.logDelivery, "READ_ACP"): p.canned = .logDeliveryWrite
        case (Self.allUsers, _), (Self.authenticatedUsers, _), (Self.logDelivery, _):
            throw S3Error("NotImplemented", message: "VOSS does not support the permission \(permission) for the group \(uri).")
        default:
            throw S3Error.invalidArgument("Invalid group uri", name: "uri", value: uri)
        }
    }

    /// Refuses an ACL other than the bucket owner's full control where ACLs are off.
    func checkACLAllowed(_ b: BucketRecord, _ policy: AccessPolicy?) throws {
        guard b.settings.ownership == .bucketOwnerEnforced, let policy else { return }
        let ownerOnly = policy == AccessPolicy(canned: .bucketOwnerFullControl) || policy == AccessPolicy()
        if !ownerOnly { throw Self.aclNotSupported }
    }

    func aclXML(_ b: BucketRecord, ownerName: String, policy: AccessPolicy, isObject: Bool) -> String {
        var x = XMLWriter()
        x.open("AccessControlPolicy", xmlns: true)
        x.open("Owner")
        x.element("ID", b.tenantID)
        x.element("DisplayName", ownerName)
        x.close("Owner")
        x.open("AccessControlList")
        func grant(_ granteeXML: String, _ perm: String) {
            x.raw("<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" " + granteeXML + "</Grantee>")
            x.element("Permission", perm)
            x.raw("</Grant>")
        }
        func user(_ id: String) -> String { "xsi:type=\"CanonicalUser\"><ID>\(XMLWriter.escape(id))</ID>" }
        func group(_ uri: String) -> String { "xsi:type=\"Group\"><URI>\(uri)</URI>" }
        grant("xsi:type=\"CanonicalUser\"><ID>\(XMLWriter.escape(b.tenantID))</ID><DisplayName>\(XMLWriter.escape(ownerName))</DisplayName>", "FULL_CONTROL")
        if b.settings.ownership != .bucketOwnerEnforced {
            switch policy.canned {
            case .publicRead: grant(group(Self.allUsers), "READ")
            case .publicReadWrite:
                grant(group(Self.allUsers), "READ")
                grant(group(Self.allUsers), "WRITE")
            case .authenticatedRead: grant(group(Self.authenticatedUsers), "READ")
            case .logDeliveryWrite:
                grant(group(Self.logDelivery), "WRITE")
                grant(group(Self.logDelivery), "READ_ACP")
            case .bucketOwnerRead where isObject: grant(user(b.ownerID), "READ")
            case .bucketOwnerFullControl where isObject: grant(user(b.ownerID), "FULL_CONTROL")
            default: break
            }
            for t in policy.readTenants { grant(user(t), "READ") }
            for t in policy.writeTenants { grant(user(t), "WRITE") }
            for t in policy.readACP ?? [] { grant(user(t), "READ_ACP") }
            for t in policy.writeACP ?? [] { grant(user(t), "WRITE_ACP") }
            for t in policy.fullControl ?? [] { grant(user(t), "FULL_CONTROL") }
        }
        x.close("AccessControlList")
        x.close("AccessControlPolicy")
        return x.document
    }

    /// A policy from an AccessControlPolicy document.
    func policyFromXML(_ body: [UInt8], owner: String) throws -> AccessPolicy {
        guard let root = try? XMLParser.parse(body), root.name == "AccessControlPolicy", let list = root.child("AccessControlList")
        else { throw S3Error("MalformedACLError") }
        var p = AccessPolicy()
        for g in list.all("Grant") {
            guard let grantee = g.child("Grantee"), let perm = g.childText("Permission"),
                ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"].contains(perm)
            else { throw S3Error("MalformedACLError") }
            if let uri = grantee.childText("URI") {
                try group(uri, permission: perm, into: &p)
            } else if grantee.childText("EmailAddress") != nil {
                throw S3Error("UnresolvableGrantByEmailAddress", message: "The e-mail address you provided does not match any account on record.")
            } else if let id = grantee.childText("ID") {
                if id == owner && perm == "FULL_CONTROL" { continue }  // the owner's own grant
                switch perm {
                case "READ": p.readTenants.append(id)
                case "WRITE": p.writeTenants.append(id)
                case "READ_ACP": p.readACP = (p.readACP ?? []) + [id]
                case "WRITE_ACP": p.writeACP = (p.writeACP ?? []) + [id]
                default: p.fullControl = (p.fullControl ?? []) + [id]
                }
            } else {
                throw S3Error("MalformedACLError")
            }
        }
        return p
    }

    /// The ACL of a PutBucketAcl/PutObjectAcl: headers or a document.
    func requestedACL(_ ex: S3Call, owner: String) async throws -> AccessPolicy {
        let body = try await readSmallBody(ex, limit: 64 << 10)
        if let p = try policyFromHeaders(ex) {
            guard body.isEmpty else { throw S3Error("UnexpectedContent", message: "This request does not support content") }
            return p
        }
        guard !body.isEmpty else { throw S3Error("MissingRequestBodyError") }
        return try policyFromXML(body, owner: owner)
    }

    func bucketACL(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: ex.ctx.operation == .getBucketAcl ? .readACL : .writeACL)
        if ex.ctx.operation == .getBucketAcl {
            return .xml(aclXML(b, ownerName: ownerName(ex, tenantID: b.tenantID), policy: b.policy, isObject: false))
        }
        let policy = try await requestedACL(ex, owner: b.tenantID)
        if b.settings.ownership == .bucketOwnerEnforced { throw Self.aclNotSupported }
        b.policy = policy
        try await state.store.updateBucket(b)
        return .status(200)
    }

    func objectACL(_ ex: S3Call) async throws -> S3Response {
        let b = try await bucket(ex, access: .objectRead)
        let o = try await existingObject(ex, b)
        let reading = ex.ctx.operation == .getObjectAcl
        let p = ex.ctx.principal
        let allowed =
            ex.ctx.policyAllowed || Access.isOwner(bucket: b, principal: p)
            || (p.map { p in
                let ids = (reading ? o.policy.readACP ?? [] : o.policy.writeACP ?? []) + (o.policy.fullControl ?? [])
                return ids.contains(p.tenant.id) || ids.contains(p.user.id)
            } ?? false)
        guard allowed else { throw S3Error.accessDenied }
        let version: String?? = ex.ctx.query["versionId"] != nil ? .some(o.versionID) : nil
        if reading {
            return .xml(aclXML(b, ownerName: ownerName(ex, tenantID: b.tenantID), policy: o.policy, isObject: true), headers: versionHeaders(b, o))
        }
        let policy = try await requestedACL(ex, owner: b.tenantID)
        if b.settings.ownership == .bucketOwnerEnforced { throw Self.aclNotSupported }
        _ = try await state.store.updateObject(bucketID: b.id, key: o.key, version: version, tags: nil, policy: policy)
        return .status(200, headers: versionHeaders(b, o))
    }

    // MARK: ownership controls

    func ownershipControls(_ ex: S3Call) async throws -> S3Response {
        var b = try await bucket(ex, access: .owner)
        switch ex.ctx.method {
        case "GET":
            guard let o = b.settings.ownership else {
                throw S3Error(
                    "OwnershipControlsNotFoundError", status: 404, message: "The bucket ownership controls were not found",
                    details: [("BucketName", b.name)])
            }
            var x = XMLWriter()
            x.open("OwnershipControls", xmlns: true)
            x.open("Rule")
            x.element("ObjectOwnership", o.rawValue)
            x.close("Rule")
            x.close("OwnershipControls")
            return .xml(x.document)
        case "PUT":
            let body = try await readSmallBody(ex, limit: 64 << 10)
            guard let root = try? XMLParser.parse(body), root.name == "OwnershipControls", let rules = Optional(root.all("Rule")), rules.count == 1,
                let o = rules[0].childText("ObjectOwnership").flatMap(ObjectOwnership.init(rawValue:))
            else { throw S3Error("MalformedXML") }
            if o == .bucketOwnerEnforced && b.policy != AccessPolicy() {
                throw S3Error(
                    "InvalidBucketAclWithObjectOwnership", status: 400,
                    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
            }
            b.settings.ownership = o
            try await state.store.updateBucket(b)
            return .status(200)
        default:
            b.settings.ownership = nil
            try await state.store.updateBucket(b)
            return .status(204)
        }
    }
}
