import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// S3's additional checksum algorithms (`x-amz-checksum-*`), with their wire form: base64 of the
/// big-endian digest.
public enum ChecksumAlgorithm: String, CaseIterable, Codable, Sendable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// `x-amz-checksum-crc32` …
    public var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    /// The XML element in CompleteMultipartUpload parts and results (`ChecksumCRC32` …).
    public var xmlName: String { "Checksum" + rawValue }

    public var digestLength: Int {
        switch self {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// Whether S3 can combine part checksums into a checksum of the whole object.
    public var supportsFullObject: Bool { self == .crc32 || self == .crc32c || self == .crc64nvme }

    public init?(headerName: String) {
        let n = headerName.lowercased()
        guard let a = ChecksumAlgorithm.allCases.first(where: { $0.headerName == n }) else { return nil }
        self = a
    }

    public init?(caseInsensitive s: String) {
        guard let a = ChecksumAlgorithm.allCases.first(where: { $0.rawValue == s.uppercased() }) else { return nil }
        self = a
    }

    /// Decodes a header value; `nil` unless it is valid base64 of the right length.
    public func decode(_ base64: String) -> [UInt8]? {
        guard let d = Data(base64Encoded: base64), d.count == digestLength else { return nil }
        return Array(d)
    }
}

/// Computes one checksum incrementally.
public struct RunningChecksum: Sendable {
    public let algorithm: ChecksumAlgorithm
    var crc32: UInt32 = ~0
    var crc64: UInt64 = ~0
    var sha1 = Insecure.SHA1()
    var sha256 = SHA256()
    public private(set) var length: UInt64 = 0

    public init(_ algorithm: ChecksumAlgorithm) { self.algorithm = algorithm }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length += UInt64(bytes.count)
        switch algorithm {
        case .crc32: crc32 = CRCs.crc32.update(crc32, bytes)
        case .crc32c: crc32 = CRCs.crc32c.update(crc32, bytes)
        case .crc64nvme: crc64 = CRCs.crc64nvme.update(crc64, bytes)
        case .sha1: sha1.update(bufferPointer: bytes)
        case .sha256: sha256.update(bufferPointer: bytes)
        }
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The big-endian digest.
    public func finish() -> [UInt8] {
        switch algorithm {
        case .crc32, .crc32c: withUnsafeBytes(of: (~crc32).bigEndian) { Array($0) }
        case .crc64nvme: withUnsafeBytes(of: (~crc64).bigEndian) { Array($0) }
        case .sha1: Array(sha1.finalize())
        case .sha256: Array(sha256.finalize())
        }
    }

    public func finishBase64() -> String { Data(finish()).base64EncodedString() }
}

/// Whole-object and composite checksums of multipart uploads, from the parts' checksums.
public enum MultipartChecksum {
    /// COMPOSITE: the checksum of the concatenated part digests, reported as `base64-N`.
    public static func composite(_ algorithm: ChecksumAlgorithm, partDigests: [[UInt8]]) -> String {
        var c = RunningChecksum(algorithm)
        for d in partDigests { c.update(d) }
        return c.finishBase64() + "-\(partDigests.count)"
    }

    /// FULL_OBJECT (CRC algorithms only): the CRC of the whole object, combined from the parts' CRCs
    /// and lengths, without reading the data again.
    public static func fullObject(_ algorithm: ChecksumAlgorithm, parts: [(digest: [UInt8], length: UInt64)]) -> [UInt8]? {
        func be32(_ d: [UInt8]) -> UInt32 { d.reduce(0) { $0 << 8 | UInt32($1) } }
        func be64(_ d: [UInt8]) -> UInt64 { d.reduce(0) { $0 << 8 | UInt64($1) } }
        switch algorithm {
        case .crc32, .crc32c:
            let spec = algorithm == .crc32 ? CRCs.crc32 : CRCs.crc32c
            guard var acc = parts.first.map({ be32($0.digest) }) else { return nil }
            for p in parts.dropFirst() { acc = spec.combine(acc, be32(p.digest), lengthB: p.length) }
            return withUnsafeBytes(of: acc.bigEndian) { Array($0) }
        case .crc64nvme:
            guard var acc = parts.first.map({ be64($0.digest) }) else { return nil }
            for p in parts.dropFirst() { acc = CRCs.crc64nvme.combine(acc, be64(p.digest), lengthB: p.length) }
            return withUnsafeBytes(of: acc.bigEndian) { Array($0) }
        case .sha1, .sha256:
            return nil
        }
    }
}

/// MD5 for ETags and Content-MD5.
public struct RunningMD5: Sendable {
    var md5 = Insecure.MD5()
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { md5.update(bufferPointer: bytes) }
    public func finish() -> [UInt8] { Array(md5.finalize()) }
}
