import Crypto
import Foundation
import VossS3Store
import VossSQLite

/// A real SQLite metadata store in a fresh temporary directory, as node `n1`.
func temporaryStore(_ name: String) throws -> SQLMetadataStore {
    let dir = NSTemporaryDirectory() + "voss-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return SQLMetadataStore(backend: try SQLiteBackend(path: "\(dir)/m.sqlite"), secretKey: SymmetricKey(size: .bits256), nodeID: "n1")
}
