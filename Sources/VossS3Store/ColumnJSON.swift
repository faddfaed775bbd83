import VossChecksums
import VossS3Core

/// The JSON columns written with every object (`headers`, `checksum`, `policy`, `tags`, `storage`),
/// written by hand: `JSONEncoder` spent about 130,000 instructions on them per PUT — a seventh of the
/// request. The output is byte for byte what `SQLMetadataStore.encoder` (sorted keys, absent
/// optionals left out, `/` escaped) writes; `ColumnJSONTests` holds it to that for every field.
/// Dictionaries with a key outside ASCII go through `JSONEncoder` (its key order for them is not
/// restated here).
struct ColumnJSON {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(256) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Objects

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        first = true
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    /// `"name":` (names are fixed ASCII field names with nothing to escape).
    mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, s) in value.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(s)
        }
        bytes.append(UInt8(ascii: "]"))
        first = false
    }

    mutating func field(_ name: StaticString, _ value: [String]?) {
        if let value { field(name, value) }
    }

    /// A string as `JSONEncoder` writes it: `"`, `\` and `/` escaped, the five short control escapes,
    /// other bytes below 0x20 as `\u00xx`, everything else (DEL, non-ASCII UTF-8) as it is.
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var start = 0
            for (i, c) in u.enumerated() where c < 0x20 || c == 0x22 || c == 0x5C || c == 0x2F {
                if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[start..<i])) }
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case 0x22, 0x5C, 0x2F: bytes.append(c)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(c >> 4)], hex[Int(c & 15)]])
                }
            }
            if start < u.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
        first = false
    }

    /// A string-to-string dictionary in byte order of its keys; `false` (nothing written) when a key
    /// is not ASCII.
    mutating func dictionary(_ d: [String: String]) -> Bool {
        guard d.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else { return false }
        bytes.append(UInt8(ascii: "{"))
        for (i, k) in d.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(k)
            bytes.append(UInt8(ascii: ":"))
            string(d[k] ?? "")
        }
        bytes.append(UInt8(ascii: "}"))
        first = false
        return true
    }

    // MARK: The columns

    static func storage(_ s: ObjectStorage) -> String {
        var j = ColumnJSON()
        j.open()
        if let e = s.encryption {
            j.key("encryption")
            j.open()
            j.field("customerKeyMD5", e.customerKeyMD5)
            j.field("keyID", e.keyID)
            j.field("mode", e.mode.rawValue)
            j.field("wrappedKey", e.wrappedKey)
            j.close()
        }
        j.key("pieces")
        j.bytes.append(UInt8(ascii: "["))
        for (i, p) in s.pieces.enumerated() {
            if i > 0 { j.bytes.append(UInt8(ascii: ",")) }
            j.open()
            j.field("blob", p.blob)
            j.field("checksum", p.checksum)
            j.field("iv", p.iv)
            j.field("offset", p.offset)
            j.field("size", p.size)
            j.close()
        }
        j.bytes.append(UInt8(ascii: "]"))
        j.close()
        return j.text
    }

    /// One object whose fields `body` writes (in sorted order).
    static func object(_ body: (inout ColumnJSON) -> Void) -> String {
        var j = ColumnJSON()
        j.open()
        body(&j)
        j.close()
        return j.text
    }

    static func checksum(_ c: StoredChecksum) -> String {
        object { j in
            j.field("algorithm", c.algorithm.rawValue)
            j.field("type", c.type)
            j.field("value", c.value)
        }
    }

    static func policy(_ p: AccessPolicy) -> String {
        object { j in
            j.field("canned", p.canned.rawValue)
            j.field("fullControl", p.fullControl)
            j.field("readACP", p.readACP)
            j.field("readTenants", p.readTenants)
            j.field("writeACP", p.writeACP)
            j.field("writeTenants", p.writeTenants)
        }
    }

    /// `nil` when the metadata has a name outside ASCII (the caller uses `JSONEncoder`).
    static func headers(_ h: ObjectHeaders) -> String? {
        var j = ColumnJSON()
        j.open()
        j.field("cacheControl", h.cacheControl)
        j.field("contentDisposition", h.contentDisposition)
        j.field("contentEncoding", h.contentEncoding)
        j.field("contentLanguage", h.contentLanguage)
        j.field("contentType", h.contentType)
        j.field("expires", h.expires)
        j.key("meta")
        guard j.dictionary(h.meta) else { return nil }
        j.close()
        return j.text
    }

    /// `nil` when a tag key is outside ASCII.
    static func tags(_ t: [String: String]) -> String? {
        if t.isEmpty { return "{}" }
        var j = ColumnJSON()
        return j.dictionary(t) ? j.text : nil
    }
}
