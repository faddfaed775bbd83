import Logging
import NIOCore
import Synchronization
import VossBlobStore
import VossConfig
import VossS3Store
import VossUpstream

/// The storage platforms this gateway writes to and reads from (docs/decisions.md 37): the embedded
/// `local` one, and each configured upstream, rebuilt when its configuration changes.
final class PlatformSet: Sendable {
    struct Table {
        var upstreams: [String: (config: UpstreamPlatformConfig, platform: S3UpstreamPlatform)] = [:]
        var defaultName = PlatformConfig.local
        var regionNames: Set<String> = []
    }

    let local: LocalPlatform
    /// Small objects' bytes in the metadata database (decision 50); never a bucket's platform.
    let inline: InlinePlatform
    private let table = Mutex(Table())

    init(local: LocalPlatform, store: any MetadataStore) {
        self.local = local
        inline = InlinePlatform(store: store, cache: SmallBlobCache(capacity: 0))
    }

    /// A platform a bucket can be on (never the inline one).
    func platform(named name: String) -> (any BlobPlatform)? {
        if name == PlatformConfig.local { return local }
        return table.withLock { $0.upstreams[name]?.platform }
    }

    /// The platform blobs named `name` live on: a bucket's, or the inline one.
    func blobPlatform(named name: String) -> (any BlobPlatform)? {
        name == BlobID.inline ? inline : platform(named: name)
    }

    /// The platform a blob id names; an unknown one (configuration removed) is unavailable.
    func platform(of blob: String) throws -> any BlobPlatform {
        let name = BlobID.platform(of: blob)
        guard let p = blobPlatform(named: name) else {
            throw PlatformUnavailable(platform: name, reason: "it is not configured on this node (ose platforms show)")
        }
        return p
    }

    var defaultName: String { table.withLock { $0.defaultName } }

    var names: [String] { [PlatformConfig.local] + table.withLock { $0.upstreams.keys.sorted() } }

    /// What a credential scope may name as its region besides the configured one (GetBucketLocation
    /// answers a bucket's platform; SDKs sign with what it answers).
    var regionNames: Set<String> { table.withLock { $0.regionNames } }

    /// Applies the configuration: new and changed upstreams are built, removed ones dropped.
    func configure(_ values: [String: String], store: any MetadataStore, group: any EventLoopGroup, logger: Logger) {
        let configs = PlatformConfig.upstreams(values)
        let defaultName = PlatformConfig.defaultPlatform(values)
        var built: [String: (UpstreamPlatformConfig, S3UpstreamPlatform)] = [:]
        let current = table.withLock { $0.upstreams }
        for c in configs {
            if let have = current[c.name], have.config == c {
                built[c.name] = have
                continue
            }
            do {
                built[c.name] = (c, try PlatformFactory.make(c, store: store, group: group))
                logger.info("storage platform ready", metadata: ["platform": "\(c.name)", "url": "\(c.url)", "tenancy": "\(c.tenancy)"])
            } catch {
                logger.error("storage platform not usable", metadata: ["platform": "\(c.name)", "error": "\(error)"])
            }
        }
        let dropped = table.withLock { t -> [S3UpstreamPlatform] in
            let gone = t.upstreams.filter { built[$0.key]?.1 !== $0.value.platform }.map(\.value.platform)
            t.upstreams = built.mapValues { ($0.0, $0.1) }
            t.defaultName = defaultName
            t.regionNames = Set(built.keys)
            return gone
        }
        for p in dropped { p.s3.http.closeIdle() }
    }
}
