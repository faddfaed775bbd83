import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The dates of HTTP and S3 headers, parsed and formatted without Foundation's formatters.
///
/// Every parser here takes bytes from the network, so each field is read as a fixed number of ASCII
/// digits and range-checked before any arithmetic: a year is 0…9999, so no input can overflow the
/// day-number arithmetic below. A malformed date is `nil`, never a trap.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    // MARK: formatting

    /// `Fri, 24 May 2013 00:00:00 GMT` (IMF-fixdate, RFC 9110 §5.6.7).
    public static func format(_ date: Date) -> String {
        let (dn, secs) = split(seconds(date))
        let (y, m, d) = civilFromDays(dn)
        let wd = Int(((dn % 7) + 7) % 7)
        return ascii(29) { w in
            w.name(weekdayNames, wd)
            w.byte(","); w.byte(" ")
            w.digits(d, 2); w.byte(" ")
            w.name(monthNames, m - 1); w.byte(" ")
            w.digits(y, 4); w.byte(" ")
            w.time(secs, separator: ":")
            w.byte(" "); w.byte("G"); w.byte("M"); w.byte("T")
        }
    }

    /// `format` of the current second, formatted once per second (every response carries it).
    public static func now() -> String {
        let t = Int64(Date().timeIntervalSince1970)
        return lastNow.withLock { last in
            if last.second != t { last = (t, format(Date(timeIntervalSince1970: TimeInterval(t)))) }
            return last.text
        }
    }

    static let lastNow = Mutex<(second: Int64, text: String)>((-1, ""))

    /// ISO 8601 with milliseconds, as S3 lists it: `2013-05-24T00:00:00.000Z`.
    public static func iso(_ date: Date) -> String {
        let msD = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let ms = msD.isFinite && abs(msD) < 9e15 ? Int64(msD) : 0
        let t = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let (dn, secs) = split(t)
        let (y, m, d) = civilFromDays(dn)
        return ascii(24) { w in
            w.digits(y, 4); w.byte("-"); w.digits(m, 2); w.byte("-"); w.digits(d, 2); w.byte("T")
            w.time(secs, separator: ":")
            w.byte("."); w.digits(Int(ms - t * 1000), 3); w.byte("Z")
        }
    }

    /// `20130524T000000Z` (the `x-amz-date` form).
    public static func amz(_ date: Date) -> String {
        let (dn, secs) = split(seconds(date))
        let (y, m, d) = civilFromDays(dn)
        return ascii(16) { w in
            w.digits(y, 4); w.digits(m, 2); w.digits(d, 2); w.byte("T")
            w.time(secs, separator: nil)
            w.byte("Z")
        }
    }

    /// Writes fixed-width ASCII into a new string (no interpolation, one allocation at most).
    struct Writer {
        let out: UnsafeMutableBufferPointer<UInt8>
        var at = 0

        mutating func byte(_ c: Unicode.Scalar) {
            out[at] = UInt8(truncatingIfNeeded: c.value)
            at += 1
        }

        /// `v` in exactly `width` digits (0 ≤ v < 10^width: every caller's fields are range-limited).
        mutating func digits(_ v: Int, _ width: Int) {
            var v = max(0, v)
            var i = at + width - 1
            while i >= at {
                out[i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
                i -= 1
            }
            at += width
        }

        mutating func name(_ names: [UInt8], _ index: Int) {
            for k in 0..<3 { out[at + k] = names[index * 3 + k] }
            at += 3
        }

        mutating func time(_ secs: Int, separator: Unicode.Scalar?) {
            digits(secs / 3600, 2)
            if let separator { byte(separator) }
            digits(secs % 3600 / 60, 2)
            if let separator { byte(separator) }
            digits(secs % 60, 2)
        }
    }

    static func ascii(_ count: Int, _ body: (inout Writer) -> Void) -> String {
        String(unsafeUninitializedCapacity: count) { buf in
            var w = Writer(out: buf)
            body(&w)
            return w.at
        }
    }

    static let weekdayNames = Array("ThuFriSatSunMonTueWed".utf8)
    static let monthNames = Array("JanFebMarAprMayJunJulAugSepOctNovDec".utf8)

    // MARK: parsing

    /// An HTTP date: IMF-fixdate (`Fri, 24 May 2013 00:00:00 GMT`), or ISO 8601
    /// (`2013-05-24T00:00:00Z`, `2013-05-24T00:00:00.000Z`, `20130524T000000Z`).
    public static func parse(_ s: String) -> Date? {
        let u = Array(s.utf8.prefix(64))
        if let d = parseIMF(u) { return d }
        return parseISO(u)
    }

    /// `20130524T000000Z` exactly.
    public static func parseAmz(_ s: String) -> Date? {
        let u = Array(s.utf8.prefix(17))
        guard u.count == 16, u[8] == UInt8(ascii: "T"), u[15] == UInt8(ascii: "Z"), let y = digits(u, 0, 4),
            let mo = digits(u, 4, 2), let d = digits(u, 6, 2), let h = digits(u, 9, 2), let mi = digits(u, 11, 2),
            let se = digits(u, 13, 2)
        else { return nil }
        return make(y, mo, d, h, mi, se)
    }

    /// `Fri, 24 May 2013 00:00:00 GMT` (the weekday is not checked against the date, as most servers do).
    static func parseIMF(_ u: [UInt8]) -> Date? {
        // "Www, DD Mmm YYYY HH:MM:SS GMT" is 29 bytes; a one-digit day is accepted too (28).
        var i = 0
        func expect(_ c: Character) -> Bool {
            guard i < u.count, u[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        guard u.count >= 28, u.count <= 29 else { return nil }
        i = 3
        guard expect(","), expect(" ") else { return nil }
        let dayLen = u.count == 29 ? 2 : 1
        guard let d = digits(u, i, dayLen) else { return nil }
        i += dayLen
        guard expect(" "), i + 3 <= u.count else { return nil }
        let monthName = String(decoding: u[i..<(i + 3)], as: UTF8.self)
        guard let mi = months.firstIndex(of: monthName) else { return nil }
        i += 3
        guard expect(" "), let y = digits(u, i, 4) else { return nil }
        i += 4
        guard expect(" "), let h = digits(u, i, 2) else { return nil }
        i += 2
        guard expect(":"), let mn = digits(u, i, 2) else { return nil }
        i += 2
        guard expect(":"), let se = digits(u, i, 2) else { return nil }
        i += 2
        guard expect(" "), expect("G"), expect("M"), expect("T"), i == u.count else { return nil }
        return make(y, mi + 1, d, h, mn, se)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff…]Z` or `YYYYMMDDTHHMMSSZ`.
    static func parseISO(_ u: [UInt8]) -> Date? {
        if u.count == 16 { return parseAmz(String(decoding: u, as: UTF8.self)) }
        guard u.count >= 20, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
            u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"), u.last == UInt8(ascii: "Z"),
            let y = digits(u, 0, 4), let mo = digits(u, 5, 2), let d = digits(u, 8, 2), let h = digits(u, 11, 2),
            let mi = digits(u, 14, 2), let se = digits(u, 17, 2)
        else { return nil }
        if u.count > 20 {
            // Fractional seconds: ".d…" then Z; ignored (HTTP dates have one-second resolution).
            guard u[19] == UInt8(ascii: "."), u.count > 21, u.count <= 30,
                u[20..<(u.count - 1)].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            else { return nil }
        }
        return make(y, mo, d, h, mi, se)
    }

    /// `len` ASCII digits at `at` (nothing else: no sign, no spaces, no other scripts' digits).
    static func digits(_ u: [UInt8], _ at: Int, _ len: Int) -> Int? {
        guard at >= 0, len > 0, len <= 4, at + len <= u.count else { return nil }
        var n = 0
        for i in at..<(at + len) {
            let c = u[i]
            guard c >= 0x30 && c <= 0x39 else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }

    /// A date from checked fields; `nil` when a field is out of range (day checked against the month).
    public static func make(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ se: Int) -> Date? {
        guard let s = epochSeconds(y, mo, d, h, mi, se) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(s))
    }

    /// Seconds since 1970 of a UTC date; `nil` unless 0 ≤ year ≤ 9999 and every field is in range
    /// (a leap second, `:60`, is accepted as the next second).
    public static func epochSeconds(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ se: Int) -> Int64? {
        guard (0...9999).contains(y), (1...12).contains(mo), (1...31).contains(d), (0...23).contains(h),
            (0...59).contains(mi), (0...60).contains(se), d <= daysIn(month: mo, year: y)
        else { return nil }
        return daysFromCivil(y, mo, d) * 86400 + Int64(h * 3600 + mi * 60 + se)
    }

    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-date algorithm).
    /// Callers pass checked fields (year 0…9999), so the arithmetic stays far inside `Int64`.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mm = Int64(m)
        let doy = (153 * (mm + (mm > 2 ? -3 : 9)) + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    /// Whole seconds of a date, clamped to years 0…9999 (a stored date is never outside them, but
    /// formatting must not trap on one that is).
    static func seconds(_ date: Date) -> Int64 {
        let t = date.timeIntervalSince1970.rounded(.down)
        guard t.isFinite else { return 0 }
        return Int64(min(max(t, -62_167_219_200), 253_402_300_799))
    }

    static func split(_ t: Int64) -> (days: Int64, secs: Int) {
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        return (days, Int(t - days * 86400))
    }
}
