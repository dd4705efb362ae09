//! [`prefetch`]: a cache hint for data about to be read at random.

/// Asks the CPU to bring the cache line holding `bytes[at]` into all cache levels. A hint only:
/// it never faults and has no effect off x86-64 or when `at` is out of range.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = bytes.get(at) {
        let p = (b as *const u8).cast::<i8>();
        // SAFETY: a prefetch is a hint that never faults and reads nothing into the program;
        // `p` points into `bytes` anyway.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, at);
}
