/// Keccak-256 as Ethereum uses it: the original Keccak submission with `0x01` padding, which
/// differs from NIST SHA3-256 (`0x06`). swift-crypto has only the NIST one.
///
/// The permutation works on a fixed 25-lane buffer with the ρ/π lane walk precomputed (as in
/// the Keccak team's reference "compact" code): no allocation or bounds check per round, since
/// EIP-55 checksums in exports and the watcher's log hashing call it per row.
public enum Keccak256 {
    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    /// ρ offsets in the order π visits the lanes, starting from lane 1.
    private static let walkRotations: [UInt64] = [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44]
    /// The lane π moves each visited lane to, starting from lane 1.
    private static let walkLanes: [Int] = [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1]
    /// Bytes absorbed per permutation (1600 − 2 × 256 bits).
    private static let rate = 136

    /// The 32-byte digest of `data`.
    public static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        if let digest = data.withContiguousStorageIfAvailable(hash(contiguous:)) { return digest }
        return Array(data).withUnsafeBufferPointer(hash(contiguous:))
    }

    /// The digest of contiguous bytes; the state and the block live on the stack.
    private static func hash(contiguous data: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 25) { lanes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rate) { block in
                lanes.initialize(repeating: 0)
                var offset = 0
                while data.count - offset >= rate {
                    _ = block.initialize(from: UnsafeBufferPointer(rebasing: data[offset..<offset + rate]))
                    absorb(block, into: lanes)
                    offset += rate
                }
                // Keccak padding: 0x01, zeros, then 0x80 on the last byte of the block (both in one byte if needed).
                let rest = data.count - offset
                block.initialize(repeating: 0)
                for index in 0..<rest { block[index] = data[offset + index] }
                block[rest] = 0x01
                block[rate - 1] |= 0x80
                absorb(block, into: lanes)
                var output = [UInt8](repeating: 0, count: 32)
                for lane in 0..<4 {
                    for byte in 0..<8 { output[lane * 8 + byte] = UInt8(truncatingIfNeeded: lanes[lane] &>> UInt64(8 * byte)) }
                }
                return output
            }
        }
    }

    private static func absorb(_ block: UnsafeMutableBufferPointer<UInt8>, into lanes: UnsafeMutableBufferPointer<UInt64>) {
        for lane in 0..<(rate / 8) {
            var value: UInt64 = 0
            for byte in 0..<8 { value |= UInt64(block[lane * 8 + byte]) &<< UInt64(8 * byte) }
            lanes[lane] ^= value
        }
        permute(lanes)
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value &<< count) | (value &>> (64 &- count))
    }

    private static func permute(_ a: UnsafeMutableBufferPointer<UInt64>) {
        roundConstants.withUnsafeBufferPointer { constants in
            walkRotations.withUnsafeBufferPointer { rotations in
                walkLanes.withUnsafeBufferPointer { walk in
                    for round in 0..<24 {
                        // θ
                        let c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
                        let c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
                        let c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
                        let c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
                        let c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
                        let d0 = c4 ^ rotateLeft(c1, 1)
                        let d1 = c0 ^ rotateLeft(c2, 1)
                        let d2 = c1 ^ rotateLeft(c3, 1)
                        let d3 = c2 ^ rotateLeft(c4, 1)
                        let d4 = c3 ^ rotateLeft(c0, 1)
                        for row in stride(from: 0, to: 25, by: 5) {
                            a[row] ^= d0
                            a[row + 1] ^= d1
                            a[row + 2] ^= d2
                            a[row + 3] ^= d3
                            a[row + 4] ^= d4
                        }
                        // ρ and π: one walk over the lanes, each rotated into its new place.
                        var carried = a[1]
                        for step in 0..<24 {
                            let lane = walk[step]
                            let next = a[lane]
                            a[lane] = rotateLeft(carried, rotations[step])
                            carried = next
                        }
                        // χ
                        for row in stride(from: 0, to: 25, by: 5) {
                            let b0 = a[row], b1 = a[row + 1], b2 = a[row + 2], b3 = a[row + 3], b4 = a[row + 4]
                            a[row] = b0 ^ (~b1 & b2)
                            a[row + 1] = b1 ^ (~b2 & b3)
                            a[row + 2] = b2 ^ (~b3 & b4)
                            a[row + 3] = b3 ^ (~b4 & b0)
                            a[row + 4] = b4 ^ (~b0 & b1)
                        }
                        // ι
                        a[0] ^= constants[round]
                    }
                }
            }
        }
    }
}
