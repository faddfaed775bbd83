/// Incremental decoder of `Content-Encoding: aws-chunked` bodies (DESIGN.md §7), all three forms:
///
/// ```
/// signed:            <hex>;chunk-signature=<64 hex>\r\n<data>\r\n … 0;chunk-signature=<sig>\r\n
///                    then \r\n, or (with trailer) <name>:<value>\r\n … x-amz-trailer-signature:<sig>\r\n\r\n
/// unsigned trailer:  <hex>[;ext]\r\n<data>\r\n … 0\r\n<name>:<value>\r\n … \r\n
/// ```
///
/// Feed it any split of the byte stream; it reports data as ranges of the bytes just fed (no copy)
/// and the chunk boundaries, so the caller can hash each chunk and check its signature.
public struct AwsChunkedDecoder: Sendable {
    public enum Event: Equatable, Sendable {
        /// A chunk of `size` bytes begins; `signature` is its `chunk-signature` (signed form).
        case chunkStart(size: Int, signature: String?)
        /// `range` of the buffer passed to `feed` is data of the current chunk.
        case data(Range<Int>)
        /// The current chunk's data is complete.
        case chunkEnd
        /// A trailing header.
        case trailer(name: String, value: String)
        /// `x-amz-trailer-signature`.
        case trailerSignature(String)
        /// The body is complete; nothing more may follow.
        case end
    }

    public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    enum State: Sendable {
        case header
        case data(remaining: Int)
        case dataCRLF(seen: Int)
        case trailers
        case done
    }

    public static let maxLine = 4096
    public static let maxChunk = 64 << 20
    public static let maxTrailers = 32

    let signed: Bool
    var state: State = .header
    var line: [UInt8] = []
    var trailerCount = 0

    public init(signed: Bool) { self.signed = signed }

    public var isDone: Bool { if case .done = state { true } else { false } }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> [Event] {
        var events: [Event] = []
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .done:
                throw DecodeError("data after the end of the aws-chunked body")
            case .data(let remaining):
                let take = min(remaining, n - i)
                events.append(.data(i..<(i + take)))
                i += take
                if take == remaining {
                    events.append(.chunkEnd)
                    state = .dataCRLF(seen: 0)
                } else {
                    state = .data(remaining: remaining - take)
                }
            case .dataCRLF(let seen):
                let expected: UInt8 = seen == 0 ? 0x0D : 0x0A
                guard bytes[i] == expected else { throw DecodeError("a chunk's data is not followed by CRLF") }
                i += 1
                state = seen == 0 ? .dataCRLF(seen: 1) : .header
            case .header, .trailers:
                // Accumulate one line up to CRLF.
                let b = bytes[i]
                i += 1
                if b != 0x0A {
                    line.append(b)
                    if line.count > Self.maxLine { throw DecodeError("an aws-chunked line is longer than \(Self.maxLine) bytes") }
                    continue
                }
                guard line.last == 0x0D else { throw DecodeError("an aws-chunked line does not end in CRLF") }
                line.removeLast()
                let text = String(decoding: line, as: UTF8.self)
                line.removeAll(keepingCapacity: true)
                if case .header = state {
                    try events.append(contentsOf: chunkHeader(text))
                } else {
                    try events.append(contentsOf: trailerLine(text))
                }
            }
        }
        return events
    }

    mutating func chunkHeader(_ text: String) throws(DecodeError) -> [Event] {
        let parts = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        let sizeText = parts[0]
        guard !sizeText.isEmpty, sizeText.count <= 16, let size = Int(sizeText, radix: 16), size >= 0 else {
            throw DecodeError("'\(text.prefix(40))' is not an aws-chunked chunk header")
        }
        guard size <= Self.maxChunk else { throw DecodeError("a chunk of \(size) bytes exceeds the limit") }
        var signature: String?
        if parts.count == 2 {
            let ext = parts[1]
            if ext.hasPrefix("chunk-signature=") {
                let sig = String(ext.dropFirst("chunk-signature=".count))
                guard sig.count == 64 else { throw DecodeError("a chunk-signature must be 64 hex characters") }
                signature = sig
            }
        }
        if signed && signature == nil { throw DecodeError("a chunk of a signed aws-chunked body lacks chunk-signature") }
        if size == 0 {
            state = .trailers
            return [.chunkStart(size: 0, signature: signature), .chunkEnd]
        }
        state = .data(remaining: size)
        return [.chunkStart(size: size, signature: signature)]
    }

    mutating func trailerLine(_ text: String) throws(DecodeError) -> [Event] {
        if text.isEmpty {
            state = .done
            return [.end]
        }
        guard let colon = text.firstIndex(of: ":") else { throw DecodeError("'\(text.prefix(40))' is not a trailing header") }
        trailerCount += 1
        guard trailerCount <= Self.maxTrailers else { throw DecodeError("too many trailing headers") }
        let name = text[..<colon].lowercased()
        var value = Substring(text[text.index(after: colon)...])
        while value.first == " " { value.removeFirst() }
        while value.last == " " { value.removeLast() }
        if name == "x-amz-trailer-signature" { return [.trailerSignature(String(value))] }
        return [.trailer(name: name, value: String(value))]
    }
}
