/// 16-bit floats as PyTorch and safetensors store them, widened to Float exactly (every half and
/// every bfloat16 is a Float).
///
/// Written out rather than using `Float16`, which macOS on Intel lacks.
public enum HalfPrecision {
    /// The Float with the value of the IEEE half-precision number `bits` (NaN keeps its payload).
    public static func float(_ bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:  // zero or subnormal: mantissa × 2⁻²⁴, exact in Float
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:  // infinity, or NaN with its payload kept
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:  // rebias the exponent from 15 to 127
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// The Float with the value of the bfloat16 `bits`: its top half.
    public static func float(bfloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
