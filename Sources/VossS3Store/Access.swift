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
        if bucket.policy.canned == .publicRead { return true }
        guard let p = principal else { return false }
        return granted(bucket.policy.readTenants, to: p) || granted(bucket.policy.writeTenants, to: p)
    }

    /// Write (put/delete objects, multipart) in a bucket.
    public static func canWrite(bucket: BucketRecord, principal: Principal?) -> Bool {
        if isOwner(bucket: bucket, principal: principal) { return true }
        guard let p = principal else { return false }
        return granted(bucket.policy.writeTenants, to: p)
    }

    /// Read one object: bucket read access, or the object's own ACL.
    public static func canRead(object: ObjectRecord, in bucket: BucketRecord, principal: Principal?) -> Bool {
        if canRead(bucket: bucket, principal: principal) { return true }
        if object.policy.canned == .publicRead { return true }
        guard let p = principal else { return false }
        return granted(object.policy.readTenants, to: p)
    }

    /// Whether a bucket appears in the caller's ListBuckets: the ones it may configure or was
    /// granted, never another tenant's unless granted.
    public static func lists(bucket: BucketRecord, principal: Principal) -> Bool {
        if bucket.tenantID != principal.tenant.id { return false }
        return isOwner(bucket: bucket, principal: principal) || granted(bucket.policy.readTenants + bucket.policy.writeTenants, to: principal)
    }

    /// A grant names the user's id or its tenant's id.
    static func granted(_ ids: [String], to p: Principal) -> Bool {
        ids.contains(p.tenant.id) || ids.contains(p.user.id)
    }
}
