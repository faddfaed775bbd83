import VossS3Core

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Carries out a bucket's lifecycle rules at `now` (the caller's clock): expires current objects
/// (deleted, or hidden by a delete marker in a versioned bucket), removes noncurrent versions and
/// lone delete markers, aborts incomplete uploads. Each step is its own transaction and is decided
/// again on every run, so a run cut short by a crash loses nothing and the next run finishes the
/// work. A version under object lock is never removed; an object a client replaced after the
/// decision is left alone.
public enum LifecycleSweep {
    public struct Outcome: Equatable, Sendable {
        public var expired = 0
        public var markers = 0
        public var noncurrent = 0
        public var aborted = 0
        public var locked = 0
        /// Blobs released (already journalled as garbage; the caller deletes them).
        public var blobs: [String] = []

        public init() {}
    }

    public static func run(
        _ store: any MetadataStore, bucket b: BucketRecord, now: Date, newVersionID: () -> String, batch: Int = 1000
    ) async throws -> Outcome {
        guard let rules = b.settings.lifecycle?.filter(\.enabled), !rules.isEmpty else { return Outcome() }
        var out = Outcome()
        let needsTags = rules.contains { $0.needsTags }
        // Every version of every key, newest first per key.
        var from = ""
        var maxSeq = VersionSummary.currentSeq
        var group: [VersionSummary] = []
        func finish(_ versions: [VersionSummary]) async throws {
            guard let first = versions.first else { return }
            let key = first.key
            var tags: [String: String] = [:]
            if first.seq == VersionSummary.currentSeq {
                if needsTags { tags = try await store.object(bucketID: b.id, key: key)?.tags ?? [:] }
                if Lifecycle.currentExpires(rules, key: key, size: first.size, tags: tags, modified: first.lastModified, now: now),
                    let current = try await store.object(bucketID: b.id, key: key)
                {
                    let marker = b.settings.versioned
                        ? ObjectRecord.marker(
                            bucketID: b.id, key: key, versionID: b.settings.versioning == .enabled ? newVersionID() : nil, ownerID: b.ownerID, at: now)
                        : nil
                    do {
                        let released = try await store.deleteObject(bucketID: b.id, key: key, marker: marker, expected: current)
                        out.expired += 1
                        out.blobs += released?.storage.blobs ?? []
                    } catch StoreError.preconditionFailed {
                        // Replaced meanwhile: the new object is judged on the next run.
                    }
                    return
                }
            }
            // Noncurrent versions: each became noncurrent when the next newer one was written.
            var newer = 0
            for (i, v) in versions.enumerated() where v.seq != VersionSummary.currentSeq {
                defer { if !v.deleteMarker { newer += 1 } }
                guard i > 0, !v.deleteMarker else { continue }
                var vtags: [String: String] = [:]
                if needsTags { vtags = try await store.objectVersion(bucketID: b.id, key: key, versionID: v.versionID)?.tags ?? [:] }
                guard Lifecycle.noncurrentExpires(rules, key: key, size: v.size, tags: vtags, since: versions[i - 1].lastModified, newer: newer, now: now)
                else { continue }
                do {
                    let removed = try await store.deleteVersion(bucketID: b.id, key: key, versionID: v.versionID, bypassGovernance: false, now: now)
                    if removed != nil { out.noncurrent += 1 }
                    out.blobs += removed?.storage.blobs ?? []
                    newer -= 1
                } catch StoreError.locked {
                    out.locked += 1
                }
            }
            // A delete marker with nothing left under it.
            if versions.count == 1, first.deleteMarker, Lifecycle.markerExpires(rules, key: key) {
                if try await store.deleteVersion(bucketID: b.id, key: key, versionID: first.versionID, bypassGovernance: false, now: now) != nil {
                    out.markers += 1
                }
            }
        }
        while true {
            let rows = try await store.listVersions(bucketID: b.id, prefix: "", from: from, maxSeq: maxSeq, limit: batch)
            for r in rows {
                if let g = group.first, g.key != r.key {
                    try await finish(group)
                    group = []
                }
                group.append(r)
                from = r.key
                maxSeq = r.seq - 1
            }
            if rows.count < batch { break }
        }
        // The last key's group may have been cut by the page: it is complete only now.
        try await finish(group)
        // Incomplete uploads.
        if rules.contains(where: { $0.abortIncompleteDays != nil }) {
            var keyMarker = "", idMarker = ""
            while true {
                let uploads = try await store.uploads(bucketID: b.id, prefix: "", keyMarker: keyMarker, uploadIDMarker: idMarker, limit: batch)
                for u in uploads where Lifecycle.uploadExpires(rules, key: u.key, initiated: u.initiated, now: now) {
                    guard let blobs = try await UploadExpiry.abort(store, u) else { continue }
                    out.aborted += 1
                    out.blobs += blobs
                }
                guard let last = uploads.last, uploads.count == batch else { break }
                keyMarker = last.key
                idMarker = last.uploadID
            }
        }
        return out
    }
}
