import Foundation
import Logging
import NIOCore
import Synchronization
import VossBlobStore
import VossChecksums
import VossS3Core
import VossS3Store
import VossSigV4

/// Moves a bucket's objects to another platform (`ose migration bucket start`). The bucket's platform
/// changes first, so new writes go to the target at once; then each object is copied, read back from
/// the target and compared (SHA-256), and its storage swapped only if a client did not replace the
/// object meanwhile. Reads are served throughout (from the old blobs until the swap). Progress is
/// saved every few objects, so a restarted gateway resumes from the last key done; at the end the
/// objects not on the target are counted (0, or the task FAILS saying how many).
final class BucketMover: Sendable {
    let state: GatewayState
    let node: String
    let running = Mutex<[String: Task<Void, Never>]>([:])

    init(state: GatewayState, node: String) {
        self.state = state
        self.node = node
    }

    enum Failure: Error, CustomStringConvertible {
        case noSuchBucket(String), noSuchPlatform(String), busy(String), samePlatform(String)
        var description: String {
            switch self {
            case .noSuchBucket(let b): "no bucket named '\(b)'"
            case .noSuchPlatform(let p): "no storage platform named '\(p)' on this node (ose platforms show)"
            case .busy(let b): "bucket '\(b)' is being moved already (add --force to start over)"
            case .samePlatform(let p): "the bucket is on '\(p)' already"
            }
        }
    }

    /// Starts (or, with `force`, restarts) a move; returns its first state.
    func start(bucket name: String, to target: String, force: Bool) async throws -> PlatformMove {
        guard let b = try await state.store.bucket(named: name) else { throw Failure.noSuchBucket(name) }
        guard let platform = state.platforms.platform(named: target) else { throw Failure.noSuchPlatform(target) }
        if let old = try await state.store.move(bucket: name), old.status == .running, !force { throw Failure.busy(name) }
        if b.platform == target && !force { throw Failure.samePlatform(target) }
        try await platform.prepare(tenant: b.tenantID)
        let counts = try await state.store.objectCount(bucketID: b.id)
        var m = PlatformMove(bucket: name, from: b.platform, to: target, node: node, startedAt: Date(), total: counts.objects, totalBytes: counts.bytes)
        var moved = b
        moved.platform = target
        try await state.store.updateBucket(moved)
        try await state.store.saveMove(m)
        m.updatedAt = Date()
        launch(m)
        state.logger.notice("bucket move started", metadata: ["bucket": "\(name)", "from": "\(m.from)", "to": "\(target)", "objects": "\(m.total)"])
        return m
    }

    /// Continues this node's unfinished moves (after a restart).
    func resume() async {
        guard let all = try? await state.store.moves() else { return }
        for m in all where m.status == .running && m.node == node { launch(m) }
    }

    func stop() {
        for t in running.withLock({ $0.values }) { t.cancel() }
    }

    func launch(_ m: PlatformMove) {
        let task = Task { await self.run(m) }
        running.withLock { r in
            r[m.bucket]?.cancel()
            r[m.bucket] = task
        }
    }

    func run(_ start: PlatformMove) async {
        var m = start
        do {
            guard let b = try await state.store.bucket(named: m.bucket) else { throw Failure.noSuchBucket(m.bucket) }
            guard let platform = state.platforms.platform(named: m.to) else { throw Failure.noSuchPlatform(m.to) }
            var lastSave = ContinuousClock.now
            while !Task.isCancelled {
                let batch = try await state.store.listObjects(bucketID: b.id, prefix: "", after: m.cursor, inclusive: false, limit: 100)
                if batch.isEmpty { break }
                for summary in batch {
                    if Task.isCancelled { return }
                    if let o = try await state.store.object(bucketID: b.id, key: summary.key), try await moveObject(o, bucket: b, to: platform) {
                        m.moved += 1
                        m.movedBytes += o.size
                    } else {
                        m.skipped += 1
                    }
                    m.cursor = summary.key
                    if ContinuousClock.now - lastSave > .seconds(1) {
                        m.updatedAt = Date()
                        try await state.store.saveMove(m)
                        lastSave = .now
                    }
                }
            }
            if Task.isCancelled { return }
            // Verify by count: every object of the bucket is on the target now.
            var remaining = 0
            var after = ""
            while true {
                let batch = try await state.store.listObjects(bucketID: b.id, prefix: "", after: after, inclusive: false, limit: 1000)
                if batch.isEmpty { break }
                for s in batch {
                    if let o = try await state.store.object(bucketID: b.id, key: s.key),
                        !o.storage.pieces.allSatisfy({ BlobID.home(of: $0.blob) == m.to })
                    {
                        remaining += 1
                    }
                }
                after = batch.last?.key ?? after
            }
            m.remaining = remaining
            m.status = remaining == 0 ? .completed : .failed
            if remaining > 0 { m.error = "\(remaining) objects are not on '\(m.to)' after the pass; start it again" }
            m.updatedAt = Date()
            try await state.store.saveMove(m)
            state.logger.notice(
                "bucket move finished",
                metadata: ["bucket": "\(m.bucket)", "status": "\(m.status.rawValue)", "moved": "\(m.moved)", "skipped": "\(m.skipped)"])
        } catch {
            if Task.isCancelled { return }
            m.status = .failed
            m.error = "\(error)"
            m.updatedAt = Date()
            try? await state.store.saveMove(m)
            state.logger.error("bucket move failed", metadata: ["bucket": "\(m.bucket)", "error": "\(error)"])
        }
        _ = running.withLock { $0.removeValue(forKey: start.bucket) }
    }

    /// Copies one object to `platform`, checks the copy, and swaps its storage. False: nothing to do
    /// (already there, or a client replaced the object meanwhile).
    func moveObject(_ o: ObjectRecord, bucket b: BucketRecord, to platform: any BlobPlatform) async throws -> Bool {
        if o.storage.pieces.allSatisfy({ BlobID.home(of: $0.blob) == platform.name }) { return false }
        let service = S3Service(state: state)
        let blob = platform.newID(tenant: b.tenantID)
        try await state.store.journalNewBlob(blob)
        let writer = try await platform.makeWriter(blob, length: o.size)
        let sha: [UInt8]
        do {
            // As stored: an encrypted object moves as ciphertext, its pieces keep their counter blocks.
            let (md5, sum) = try await service.pump(o, first: 0, count: o.size, checksum: .sha256, into: writer, sourceKey: nil)
            try await writer.commit(md5: md5)
            sha = sum ?? []
        } catch {
            await writer.abort()
            await service.discard(blob)
            throw error
        }
        // Read the copy back from the target: the bytes there must be the bytes read from the source.
        var check = RunningChecksum(.sha256)
        do {
            if o.size > 0 {
                let reader = try await platform.read(blob, offset: 0, count: o.size)
                defer { reader.cancel() }
                while let buf = try await reader.next() { buf.withUnsafeReadableBytes { check.update($0) } }
            }
        } catch {
            await service.discard(blob)
            throw error
        }
        guard check.finish() == sha else {
            await service.discard(blob)
            throw MoveCheckFailed(key: o.key)
        }
        // The same parts (GET ?partNumber= keeps working), as stretches of the one new blob.
        var offset: Int64 = 0
        let pieces = o.storage.pieces.map { p in
            defer { offset += p.size }
            var q = p  // its counter block and part checksum stay
            q.blob = blob
            q.offset = offset == 0 && o.storage.pieces.count == 1 ? nil : offset
            return q
        }
        let moved = ObjectStorage(pieces: pieces, encryption: o.storage.encryption)
        guard try await state.store.replaceStorage(bucketID: b.id, key: o.key, expected: o.storage, with: moved) else {
            await service.discard(blob)  // replaced or deleted by a client meanwhile: its new bytes are where they belong
            return false
        }
        await state.collectGarbage(o.storage.blobs)
        return true
    }
}

struct MoveCheckFailed: Error, CustomStringConvertible {
    var key: String
    var description: String { "the copy of '\(key)' read back from the target differs from the source" }
}
