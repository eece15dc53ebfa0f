/// Keccak-256 as Ethereum uses it: the original Keccak submission with `0x01` padding, which
/// differs from NIST SHA3-256 (`0x06`). swift-crypto has only the NIST one.
///
/// The permutation keeps the 25 lanes in locals and writes each round out lane by lane (as the
/// Keccak team's reference "unrolled" code does): no loads and stores through the state buffer,
/// no allocation and no bounds check per round, since EIP-55 checksums in exports and the
/// watcher's log hashing call it per row.
public enum Keccak256 {
    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
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

    private static func permute(_ lanes: UnsafeMutableBufferPointer<UInt64>) {
        // The 25 lanes live in locals for all 24 rounds (registers and stack slots the
        // compiler allocates), each round written out lane by lane from the Keccak
        // reference's θ, ρ, π, χ and ι steps: lane (x, y) is a{x + 5y}.
        var a0 = lanes[0]
        var a1 = lanes[1]
        var a2 = lanes[2]
        var a3 = lanes[3]
        var a4 = lanes[4]
        var a5 = lanes[5]
        var a6 = lanes[6]
        var a7 = lanes[7]
        var a8 = lanes[8]
        var a9 = lanes[9]
        var a10 = lanes[10]
        var a11 = lanes[11]
        var a12 = lanes[12]
        var a13 = lanes[13]
        var a14 = lanes[14]
        var a15 = lanes[15]
        var a16 = lanes[16]
        var a17 = lanes[17]
        var a18 = lanes[18]
        var a19 = lanes[19]
        var a20 = lanes[20]
        var a21 = lanes[21]
        var a22 = lanes[22]
        var a23 = lanes[23]
        var a24 = lanes[24]
        let constants = roundConstants
        for round in 0..<24 {
            // θ
            let c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
            let c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
            let c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
            let c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
            let c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
            let d0 = c4 ^ rotateLeft(c1, 1)
            let d1 = c0 ^ rotateLeft(c2, 1)
            let d2 = c1 ^ rotateLeft(c3, 1)
            let d3 = c2 ^ rotateLeft(c4, 1)
            let d4 = c3 ^ rotateLeft(c0, 1)
            a0 ^= d0
            a1 ^= d1
            a2 ^= d2
            a3 ^= d3
            a4 ^= d4
            a5 ^= d0
            a6 ^= d1
            a7 ^= d2
            a8 ^= d3
            a9 ^= d4
            a10 ^= d0
            a11 ^= d1
            a12 ^= d2
            a13 ^= d3
            a14 ^= d4
            a15 ^= d0
            a16 ^= d1
            a17 ^= d2
            a18 ^= d3
            a19 ^= d4
            a20 ^= d0
            a21 ^= d1
            a22 ^= d2
            a23 ^= d3
            a24 ^= d4
            // ρ and π: b(y, 2x + 3y) = a(x, y) rotated by its ρ offset
            let b0 = a0
            let b1 = rotateLeft(a6, 44)
            let b2 = rotateLeft(a12, 43)
            let b3 = rotateLeft(a18, 21)
            let b4 = rotateLeft(a24, 14)
            let b5 = rotateLeft(a3, 28)
            let b6 = rotateLeft(a9, 20)
            let b7 = rotateLeft(a10, 3)
            let b8 = rotateLeft(a16, 45)
            let b9 = rotateLeft(a22, 61)
            let b10 = rotateLeft(a1, 1)
            let b11 = rotateLeft(a7, 6)
            let b12 = rotateLeft(a13, 25)
            let b13 = rotateLeft(a19, 8)
            let b14 = rotateLeft(a20, 18)
            let b15 = rotateLeft(a4, 27)
            let b16 = rotateLeft(a5, 36)
            let b17 = rotateLeft(a11, 10)
            let b18 = rotateLeft(a17, 15)
            let b19 = rotateLeft(a23, 56)
            let b20 = rotateLeft(a2, 62)
            let b21 = rotateLeft(a8, 55)
            let b22 = rotateLeft(a14, 39)
            let b23 = rotateLeft(a15, 41)
            let b24 = rotateLeft(a21, 2)
            // χ
            a0 = b0 ^ (~b1 & b2)
            a1 = b1 ^ (~b2 & b3)
            a2 = b2 ^ (~b3 & b4)
            a3 = b3 ^ (~b4 & b0)
            a4 = b4 ^ (~b0 & b1)
            a5 = b5 ^ (~b6 & b7)
            a6 = b6 ^ (~b7 & b8)
            a7 = b7 ^ (~b8 & b9)
            a8 = b8 ^ (~b9 & b5)
            a9 = b9 ^ (~b5 & b6)
            a10 = b10 ^ (~b11 & b12)
            a11 = b11 ^ (~b12 & b13)
            a12 = b12 ^ (~b13 & b14)
            a13 = b13 ^ (~b14 & b10)
            a14 = b14 ^ (~b10 & b11)
            a15 = b15 ^ (~b16 & b17)
            a16 = b16 ^ (~b17 & b18)
            a17 = b17 ^ (~b18 & b19)
            a18 = b18 ^ (~b19 & b15)
            a19 = b19 ^ (~b15 & b16)
            a20 = b20 ^ (~b21 & b22)
            a21 = b21 ^ (~b22 & b23)
            a22 = b22 ^ (~b23 & b24)
            a23 = b23 ^ (~b24 & b20)
            a24 = b24 ^ (~b20 & b21)
            // ι
            a0 ^= constants[round]
        }
        lanes[0] = a0
        lanes[1] = a1
        lanes[2] = a2
        lanes[3] = a3
        lanes[4] = a4
        lanes[5] = a5
        lanes[6] = a6
        lanes[7] = a7
        lanes[8] = a8
        lanes[9] = a9
        lanes[10] = a10
        lanes[11] = a11
        lanes[12] = a12
        lanes[13] = a13
        lanes[14] = a14
        lanes[15] = a15
        lanes[16] = a16
        lanes[17] = a17
        lanes[18] = a18
        lanes[19] = a19
        lanes[20] = a20
        lanes[21] = a21
        lanes[22] = a22
        lanes[23] = a23
        lanes[24] = a24
    }
}
