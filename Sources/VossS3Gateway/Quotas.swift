import Synchronization
import VossS3Core
import VossS3Store

/// Tenants' storage quotas (set by provider admins through the REST API), enforced on writes.
///
/// Soft, as a quota checked against cached usage is (Ceph RGW's are too): the quotas and each
/// tenant's stored bytes are read at most every `ttl`, and bytes written since are added as they are
/// accepted. A write whose length is known is refused when it would take the tenant over its quota;
/// one of unknown length (chunked) only once the tenant is at or over it. Parts of unfinished multipart
/// uploads count from their completion. With no quota set anywhere a write costs one cached lookup.
final class QuotaGuard: Sendable {
    struct State {
        var quotas: [String: Int64] = [:]
        var quotasRead: ContinuousClock.Instant?
        var used: [String: (bytes: Int64, read: ContinuousClock.Instant)] = [:]
    }

    let store: any MetadataStore
    let ttl: Duration
    private let state = Mutex(State())

    init(store: any MetadataStore, ttl: Duration = .seconds(10)) {
        self.store = store
        self.ttl = ttl
    }

    func quota(tenantID: String) async throws -> Int64? {
        let now = ContinuousClock.now
        if let (q, read) = state.withLock({ s in s.quotasRead.map { (s.quotas, $0) } }), now - read < ttl { return q[tenantID] }
        let q = try await store.quotas()
        state.withLock {
            $0.quotas = q
            $0.quotasRead = now
        }
        return q[tenantID]
    }

    /// Whether any tenant has a quota (cheap after the first call within `ttl`).
    func any() async throws -> Bool {
        _ = try await quota(tenantID: "")
        return state.withLock { !$0.quotas.isEmpty }
    }

    func used(tenantID: String) async throws -> Int64 {
        let now = ContinuousClock.now
        if let e = state.withLock({ $0.used[tenantID] }), now - e.read < ttl { return e.bytes }
        let bytes = try await store.storedBytes(tenantID: tenantID)
        state.withLock { $0.used[tenantID] = (bytes, now) }
        return bytes
    }

    func charge(tenantID: String, bytes: Int64) {
        state.withLock { s in
            if let e = s.used[tenantID] { s.used[tenantID] = (e.bytes &+ max(0, bytes), e.read) }
        }
    }

    /// After a quota changed: read everything again.
    func forget() {
        state.withLock { $0 = State() }
    }

    /// Refuses a write of `incoming` bytes (nil: not known) to a bucket of `tenantID` that the quota
    /// does not allow.
    func check(tenantID: String, incoming: Int64?) async throws {
        guard let quota = try await quota(tenantID: tenantID) else { return }
        let used = try await used(tenantID: tenantID)
        let (total, overflow) = used.addingReportingOverflow(incoming ?? 0)
        if overflow || total > quota || used >= quota && (incoming ?? 1) > 0 {
            throw S3Error(
                "QuotaExceeded", status: 403,
                message: "The tenant's storage quota of \(quota) bytes would be exceeded (\(used) bytes stored).")
        }
        charge(tenantID: tenantID, bytes: incoming ?? 0)
    }
}
