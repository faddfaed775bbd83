extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    public func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    public func trimmingSpaces() -> String { Substring(self).trimmingSpaces() }
}
