#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Incomplete multipart uploads are removed once they are older than a configured age (issue 11):
/// an abandoned upload's parts otherwise hold disk space for ever. The clock is the caller's.
public enum UploadExpiry {
    /// Aborts up to `limit` uploads begun before `now - maxAge`; returns their part blobs, which the
    /// caller deletes (they are already journalled as garbage, so a crash here loses nothing).
    public static func sweep(_ store: any MetadataStore, now: Date, maxAge: TimeInterval, limit: Int = 1000) async throws
        -> (uploads: [UploadRecord], blobs: [String])
    {
        let stale = try await store.uploads(initiatedBefore: now.addingTimeInterval(-maxAge), limit: limit)
        var aborted: [UploadRecord] = []
        var blobs: [String] = []
        for u in stale {
            guard let these = try await abort(store, u) else { continue }  // completed or aborted meanwhile
            aborted.append(u)
            blobs += these
        }
        return (aborted, blobs)
    }

    /// Aborts one upload; returns its part blobs (journalled as garbage: the caller deletes them), or
    /// nil when it was completed or aborted meanwhile.
    public static func abort(_ store: any MetadataStore, _ u: UploadRecord) async throws -> [String]? {
        var after = 0
        var blobs: [String] = u.platformUpload.map { [$0] } ?? []
        while true {
            let batch = try await store.parts(uploadID: u.uploadID, after: after, limit: 1000)
            blobs += batch.map(\.blob).filter { $0 != u.platformUpload }
            guard let last = batch.last, batch.count == 1000 else { break }
            after = last.partNumber
        }
        do {
            try await store.abortUpload(uploadID: u.uploadID)
        } catch StoreError.notFound {
            return nil
        }
        return blobs
    }
}
