//! Lucene's one-byte document-length norm (`org.apache.lucene.util.SmallFloat`, the
//! `intToByte4` / `byte4ToInt` pair that `BM25Similarity.computeNorm` uses).
//!
//! Lengths 0..=39 are exact; above that only the 4 most significant bits survive, so Lucene's
//! BM25 sees a rounded-down length. Reproducing it is what makes our `lucene` scores equal
//! Lucene's to float rounding.

/// `SmallFloat.longToInt4`: 4 significant bits, 4 bits of shift.
fn long_to_int4(i: u64) -> u32 {
    let num_bits = 64 - i.leading_zeros();
    if num_bits < 4 {
        i as u32
    } else {
        let shift = num_bits - 4;
        let mut encoded = (i >> shift) as u32;
        encoded &= 0x07;
        encoded |= (shift + 1) << 3;
        encoded
    }
}

/// `SmallFloat.int4ToLong`.
fn int4_to_long(i: u32) -> u64 {
    let bits = u64::from(i & 0x07);
    let shift = (i >> 3) as i32 - 1;
    if shift == -1 {
        bits
    } else {
        (bits | 0x08) << shift
    }
}

const MAX_INT4: u32 = 231; // long_to_int4(i32::MAX as u64), checked in tests
const NUM_FREE_VALUES: u32 = 255 - MAX_INT4;

/// Encodes a document length into Lucene's norm byte (`SmallFloat.intToByte4`).
pub fn int_to_byte4(len: u32) -> u8 {
    let i = len.min(i32::MAX as u32);
    if i < NUM_FREE_VALUES {
        i as u8
    } else {
        (NUM_FREE_VALUES + long_to_int4(u64::from(i - NUM_FREE_VALUES))) as u8
    }
}

/// Decodes a norm byte into the length Lucene's BM25 uses (`SmallFloat.byte4ToInt`).
pub fn byte4_to_int(b: u8) -> u32 {
    let i = u32::from(b);
    if i < NUM_FREE_VALUES {
        i
    } else {
        (u64::from(NUM_FREE_VALUES) + int4_to_long(i - NUM_FREE_VALUES)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_lucene() {
        assert_eq!(long_to_int4(i32::MAX as u64), MAX_INT4);
        assert_eq!(NUM_FREE_VALUES, 24);
    }

    #[test]
    fn small_lengths_are_exact_and_large_ones_round_down() {
        for l in 0..NUM_FREE_VALUES {
            assert_eq!(byte4_to_int(int_to_byte4(l)), l);
        }
        let mut prev = 0;
        for l in 0..100_000u32 {
            let d = byte4_to_int(int_to_byte4(l));
            assert!(d <= l, "{l} decodes to {d}");
            assert!(d >= prev, "monotone");
            prev = d;
        }
        // Worked by hand from Lucene's definitions: 24 free values, then 4 significant bits.
        assert_eq!(byte4_to_int(int_to_byte4(40)), 40);
        assert_eq!(byte4_to_int(int_to_byte4(100)), 96);
        assert_eq!(byte4_to_int(int_to_byte4(1000)), 984);
    }

    #[test]
    fn byte_table_is_monotone_over_all_256_codes() {
        for b in 1..=255u8 {
            assert!(byte4_to_int(b) > byte4_to_int(b - 1));
        }
    }
}
