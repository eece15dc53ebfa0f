/// A store logo upload, validated: only PNG or JPEG (by their bytes, whatever the browser
/// claims), at most ``maximumBytes``, 16–2048 pixels a side, dimensions read from the image
/// header so a truncated or disguised file is refused.
struct LogoImage: Equatable {
    let contentType: String
    let width: Int
    let height: Int
    let bytes: [UInt8]

    static let maximumBytes = 256 * 1024

    /// Why an upload is refused.
    struct Refusal: Error, Equatable {
        let reason: String
    }

    init(_ bytes: [UInt8]) throws(Refusal) {
        guard !bytes.isEmpty else { throw Refusal(reason: "choose a PNG or JPEG file to upload") }
        guard bytes.count <= Self.maximumBytes else { throw Refusal(reason: "the logo is larger than 256 KB") }
        let size: (Int, Int)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            guard bytes.count >= 33, bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] else { throw Refusal(reason: "the PNG file is damaged (no IHDR)") }
            size = (Self.bigEndian(bytes, 16, 4), Self.bigEndian(bytes, 20, 4))
            contentType = "image/png"
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            guard let found = Self.jpegSize(bytes) else { throw Refusal(reason: "the JPEG file is damaged (no frame header)") }
            size = found
            contentType = "image/jpeg"
        } else {
            throw Refusal(reason: "only PNG and JPEG images are accepted")
        }
        guard (16...2048).contains(size.0), (16...2048).contains(size.1) else {
            throw Refusal(reason: "the logo must be 16–2048 pixels a side, it is \(size.0)×\(size.1)")
        }
        (width, height) = size
        self.bytes = bytes
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> Int {
        bytes[offset..<(offset + count)].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Walks the JPEG markers to the first start-of-frame and reads its size.
    private static func jpegSize(_ bytes: [UInt8]) -> (Int, Int)? {
        var index = 2
        while index + 9 < bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                index += 2
                continue
            }
            let length = bigEndian(bytes, index + 2, 2)
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                return (bigEndian(bytes, index + 7, 2), bigEndian(bytes, index + 5, 2))
            }
            index += 2 + length
        }
        return nil
    }
}
