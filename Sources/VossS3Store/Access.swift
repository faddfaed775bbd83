/// Who may do what with a bucket or an object: the roles of SPEC.md §3 plus canned ACLs and grants.
///
/// - A **provider admin** acts on every bucket of every tenant.
/// - A **tenant admin** acts on every bucket of its own tenant.
/// - A **tenant user** acts on the buckets it created, and on those granted to it (a grant names
///   a user id or a whole tenant's id); it may configure (delete, ACL, tagging) only its own.
/// - Anyone, signed or not, reads a `public-read` bucket or object.
///
/// Pure: decided from the records alone, so the whole matrix is a unit test (`AccessTests`).
public enum Access {
    /// Full control: the bucket's creator, its tenant's admins, provider admins.
    public static func isOwner(bucket: BucketRecord, principal: Principal?) -> Bool {
        guard let p = principal else { return false }
        switch p.user.role {
        case .providerAdmin: return true
        case .tenantAdmin: return p.tenant.id == bucket.tenantID
        case .tenantUser: return p.tenant.id == bucket.tenantID && p.user.id == bucket.ownerID
        }
    }

    /// Read (list objects, get objects) in a bucket.
    public static func canRead(bucket: BucketRecord, principal: Principal?) -> Bool {
        if isOwner(bucket: bucket, principal: principal) { return true }
        if acls(bucket), bucket.policy.publicRead { return true }
        guard let p = principal, acls(bucket) else { return false }
        return bucket.policy.authenticatedRead || bucket.policy.authenticatedWrite
            || granted(bucket.policy.readTenants + bucket.policy.writeTenants + (bucket.policy.fullControl ?? []), to: p)
    }

    /// Whether the bucket's ACLs count (not with BucketOwnerEnforced ownership).
    static func acls(_ b: BucketRecord) -> Bool { b.settings.ownership != .bucketOwnerEnforced }

    /// Read the bucket's ACL (READ_ACP).
    public static func canReadACL(bucket: BucketRecord, principal: Principal?) -> Bool {
        if isOwner(bucket: bucket, principal: principal) { return true }
        guard let p = principal, acls(bucket) else { return false }
        return granted((bucket.policy.readACP ?? []) + (bucket.policy.fullControl ?? []), to: p)
    }

    /// Change the bucket's ACL (WRITE_ACP).
    public static func canWriteACL(bucket: BucketRecord, principal: Principal?) -> Bool {
        if isOwner(bucket: bucket, principal: principal) { return true }
        guard let p = principal, acls(bucket) else { return false }
        return granted((bucket.policy.writeACP ?? []) + (bucket.policy.fullControl ?? []), to: p)
    }

    /// Write (put/delete objects, multipart) in a bucket.
    public static func canWrite(bucket: BucketRecord, principal: Principal?) -> Bool {
        if isOwner(bucket: bucket, principal: principal) { return true }
        guard let p = principal, acls(bucket) else { return false }
        return bucket.policy.authenticatedWrite || granted(bucket.policy.writeTenants + (bucket.policy.fullControl ?? []), to: p)
    }

    /// Read one object: bucket read access, or the object's own ACL.
    public static func canRead(object: ObjectRecord, in bucket: BucketRecord, principal: Principal?) -> Bool {
        if canRead(bucket: bucket, principal: principal) { return true }
        guard acls(bucket) else { return false }
        if object.policy.publicRead { return true }
        guard let p = principal else { return false }
        if object.policy.authenticatedRead { return true }
        if object.policy.canned == .bucketOwnerRead || object.policy.canned == .bucketOwnerFullControl, p.tenant.id == bucket.tenantID,
            p.user.role != .tenantUser || p.user.id == bucket.ownerID
        {
            return true
        }
        return granted(object.policy.readTenants + (object.policy.fullControl ?? []), to: p)
    }

    /// Whether a bucket appears in the caller's ListBuckets: the ones it may configure or was
    /// granted, never another tenant's unless granted.
    public static func lists(bucket: BucketRecord, principal: Principal) -> Bool {
        if bucket.tenantID != principal.tenant.id { return false }
        return isOwner(bucket: bucket, principal: principal)
            || granted(bucket.policy.readTenants + bucket.policy.writeTenants + (bucket.policy.fullControl ?? []), to: principal)
    }

    /// A grant names the user's id or its tenant's id.
    static func granted(_ ids: [String], to p: Principal) -> Bool {
        ids.contains(p.tenant.id) || ids.contains(p.user.id)
    }
}
