import Foundation

/// A `multipart/form-data` body split into its parts (what a file-upload form sends).
struct MultipartForm {
    struct Part {
        let name: String
        let filename: String?
        let contentType: String?
        let body: [UInt8]
    }

    let parts: [Part]

    /// Parses a body; nil when the boundary or the structure is wrong.
    init?(body: [UInt8], contentType: String) {
        guard let boundaryRange = contentType.range(of: "boundary=") else { return nil }
        var boundary = String(contentType[boundaryRange.upperBound...])
        if let end = boundary.firstIndex(of: ";") { boundary = String(boundary[..<end]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty, boundary.count <= 200 else { return nil }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        var sections = Self.split(body, on: delimiter)
        guard sections.count >= 2 else { return nil }
        sections.removeFirst()  // preamble
        for section in sections {
            var section = section
            if section.starts(with: Array("--".utf8)) { break }  // closing delimiter
            if section.starts(with: [13, 10]) { section.removeFirst(2) }
            guard let headerEnd = Self.firstIndex(of: [13, 10, 13, 10], in: section) else { return nil }
            let headers = String(decoding: section[..<headerEnd], as: UTF8.self)
            var content = Array(section[(headerEnd + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            var name: String?
            var filename: String?
            var type: String?
            for line in headers.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = Self.parameter("name", in: String(line))
                    filename = Self.parameter("filename", in: String(line))
                } else if lower.hasPrefix("content-type:") {
                    type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { return nil }
            parts.append(Part(name: name, filename: filename, contentType: type, body: content))
        }
        self.parts = parts
    }

    /// The first part named `name`.
    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// A text field's value.
    func field(_ name: String) -> String? { part(name).map { String(decoding: $0.body, as: UTF8.self) } }

    private static func parameter(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "\(key)=\"") else { return nil }
        let rest = header[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && Array(haystack[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }

    private static func split(_ data: [UInt8], on delimiter: [UInt8]) -> [[UInt8]] {
        var sections: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + delimiter.count <= data.count {
            if data[index] == delimiter[0] && Array(data[index..<(index + delimiter.count)]) == delimiter {
                sections.append(Array(data[start..<index]))
                index += delimiter.count
                start = index
            } else {
                index += 1
            }
        }
        sections.append(Array(data[start...]))
        return sections
    }
}
