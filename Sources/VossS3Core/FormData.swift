import VossBase

/// A streaming `multipart/form-data` reader for POST object (browser form uploads): fields are
/// collected (bounded), the `file` field's content is handed out as it arrives, in any split of
/// the input. Pure.
public struct FormDataReader: Sendable {
    public enum Event: Equatable, Sendable {
        case field(name: String, value: String)
        /// The file field begins (its filename and Content-Type); its bytes follow as `data`.
        case file(filename: String, contentType: String?)
        case data([UInt8])
        /// The file field ended.
        case fileEnd
    }

    enum Phase { case preamble, headers, field, file, afterPart, done }

    let delimiter: [UInt8]  // "\r\n--BOUNDARY"
    let maxField: Int
    let maxFields: Int
    var phase = Phase.preamble
    var pending: [UInt8] = []
    var partName = ""
    var fields = 0
    public private(set) var sawFile = false

    /// The boundary from a Content-Type (`multipart/form-data; boundary=…`).
    public static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingSpaces() }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var b = String(p.dropFirst("boundary=".count))
            if b.hasPrefix("\"") && b.hasSuffix("\"") && b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            guard (1...70).contains(b.utf8.count), b.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), b.utf8.last != 0x20 else { return nil }
            return b
        }
        return nil
    }

    public init(boundary: String, maxField: Int = 20 * 1024, maxFields: Int = 100) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.maxField = maxField
        self.maxFields = maxFields
        // The first boundary may open the body without a CRLF before it.
        pending = Array("\r\n".utf8)
    }

    static func malformed(_ m: String) -> S3Error { S3Error("MalformedPOSTRequest", status: 400, message: "The body of your POST request is not well-formed multipart/form-data. " + m) }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int = 0) -> Int? {
        guard needle.count <= hay.count, from <= hay.count - needle.count else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (Event) throws -> Void) throws {
        pending.append(contentsOf: bytes)
        while true {
            switch phase {
            case .done:
                pending.removeAll()  // the epilogue is ignored
                return
            case .preamble:
                guard let at = Self.find(delimiter, in: pending) else {
                    if pending.count > 64 * 1024 { throw Self.malformed("No boundary found.") }
                    return
                }
                pending.removeFirst(at + delimiter.count)
                phase = .afterPart
            case .afterPart:
                guard pending.count >= 2 else { return }
                if pending[0] == UInt8(ascii: "-") && pending[1] == UInt8(ascii: "-") {
                    phase = .done
                    continue
                }
                // Transport padding (spaces, tabs) may follow a boundary before its CRLF.
                guard let crlf = Self.find([13, 10], in: pending) else {
                    if pending.count > 1024 { throw Self.malformed("A boundary is not followed by CRLF.") }
                    return
                }
                guard pending[..<crlf].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { throw Self.malformed("A boundary is not followed by CRLF.") }
                pending.removeFirst(crlf + 2)
                phase = .headers
            case .headers:
                guard let end = Self.find([13, 10, 13, 10], in: pending) else {
                    if pending.count > 8 * 1024 { throw Self.malformed("A part's headers are too long.") }
                    return
                }
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                var name: String?
                var filename: String?
                var type: String?
                for line in text.split(separator: "\r\n") {
                    guard let colon = line.firstIndex(of: ":") else { throw Self.malformed("A part header has no colon.") }
                    let h = line[..<colon].trimmingSpaces().lowercased()
                    let v = line[line.index(after: colon)...].trimmingSpaces()
                    if h == "content-disposition" {
                        (name, filename) = Self.disposition(v)
                    } else if h == "content-type" {
                        type = v
                    }
                }
                guard let name, !name.isEmpty else { throw Self.malformed("A part has no form-data name.") }
                partName = name
                fields += 1
                guard fields <= maxFields else { throw Self.malformed("Too many form fields.") }
                if name.lowercased() == "file" && !sawFile {
                    sawFile = true
                    phase = .file
                    try emit(.file(filename: filename ?? "", contentType: type))
                } else {
                    phase = .field
                }
            case .field:
                guard let at = Self.find(delimiter, in: pending) else {
                    if pending.count > maxField + delimiter.count { throw S3Error("MaxMessageLengthExceeded", message: "The form field \(partName) is too long.") }
                    return
                }
                let value = String(decoding: pending[..<at], as: UTF8.self)
                pending.removeFirst(at + delimiter.count)
                try emit(.field(name: partName, value: value))
                phase = .afterPart
            case .file:
                if let at = Self.find(delimiter, in: pending) {
                    if at > 0 { try emit(.data(Array(pending[..<at]))) }
                    pending.removeFirst(at + delimiter.count)
                    try emit(.fileEnd)
                    phase = .afterPart
                    continue
                }
                // Everything but a possible start of the delimiter at the end is file data.
                let keep = delimiter.count - 1
                if pending.count > keep {
                    try emit(.data(Array(pending[..<(pending.count - keep)])))
                    pending.removeFirst(pending.count - keep)
                }
                return
            }
        }
    }

    /// The end of the body: the closing boundary must have been seen.
    public func finish() throws {
        guard phase == .done else { throw Self.malformed("The body ended before its closing boundary.") }
    }

    /// `form-data; name="key"; filename="a.txt"` → (name, filename).
    static func disposition(_ v: String) -> (String?, String?) {
        var name: String?
        var filename: String?
        var rest = Substring(v)
        while let semi = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semi)...]
            let item = rest.prefix { $0 != ";" }.trimmingSpaces()
            guard let eq = item.firstIndex(of: "=") else { continue }
            let k = item[..<eq].trimmingSpaces().lowercased()
            var val = item[item.index(after: eq)...].trimmingSpaces()
            if val.hasPrefix("\"") && val.hasSuffix("\"") && val.count >= 2 { val = String(val.dropFirst().dropLast()) }
            if k == "name" { name = val }
            if k == "filename" { filename = val }
        }
        return (name, filename)
    }
}
