//! When a search releases the GIL.
//!
//! Releasing the GIL is cheap, but taking it back waits up to the interpreter's switch
//! interval (5 ms) whenever another thread is running Python: beside a thread busy in a Python
//! loop, a SciFact `search` took 5.2 ms (median) instead of 20 us, every call. Holding the GIL
//! for small work avoids that wait (numpy keeps it for small arrays), but then Python threads
//! that all search cannot overlap their searches: two threads calling `search` on SciFact made
//! 47k searches/s together when small searches held the GIL, 82k when every search released
//! it, against 47k for one thread.
//!
//! So small work keeps the GIL only while one thread is the sole caller. [`sole_caller`] watches
//! which thread called last: when calls come from more than one thread within
//! [`CONCURRENT_WINDOW_MS`], searches release the GIL as large ones always do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Work (postings of the query terms, [`thresher_core::Index::query_postings`]) up to which a
/// sole caller keeps the GIL: ~60 us of exhaustive scoring, a short pause for other threads.
pub(crate) const HOLD_GIL_POSTINGS: u64 = 1 << 14;

/// Query or text inputs up to this many bytes are analysed with the GIL held: always by
/// `Analyzer.tokenize`, and by searches and `tokenize_batch` of a sole caller (a search must
/// analyse its query to know its work, [`HOLD_GIL_POSTINGS`]).
pub(crate) const HOLD_GIL_INPUT: usize = 4096;

/// Batches of at most this many queries are candidates for running with the GIL held.
pub(crate) const HOLD_GIL_BATCH: usize = 64;

/// Calls from two threads at most this far apart mark the process as searching from several
/// threads (a thread waiting for the GIL behind another's search waits at most the 5 ms
/// switch interval, so concurrent callers show up well within it).
pub(crate) const CONCURRENT_WINDOW_MS: u64 = 50;

/// Which thread called last, and when the caller last changed.
#[derive(Debug, Default)]
pub(crate) struct Callers {
    /// Tag of the thread that called last (0: none yet).
    last: AtomicU64,
    /// Milliseconds (since [`clock`]'s start, plus one) when a call came from another thread
    /// than the previous one (0: never).
    switched: AtomicU64,
}

impl Callers {
    pub(crate) const fn new() -> Self {
        Self {
            last: AtomicU64::new(0),
            switched: AtomicU64::new(0),
        }
    }

    /// Records a call from thread `me` (a non-zero tag) at `now_ms` (> 0) and tells whether
    /// that thread is the sole caller.
    pub(crate) fn alone(&self, me: u64, now_ms: u64) -> bool {
        let prev = self.last.swap(me, Ordering::Relaxed);
        if prev != 0 && prev != me {
            self.switched.store(now_ms, Ordering::Relaxed);
        }
        let switched = self.switched.load(Ordering::Relaxed);
        switched == 0 || now_ms.saturating_sub(switched) > CONCURRENT_WINDOW_MS
    }
}

static CALLERS: Callers = Callers::new();

/// Milliseconds since the first call, plus one.
fn clock() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
}

/// This thread's tag (distinct per thread, never 0).
fn thread_tag() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TAG: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TAG.with(|t| *t)
}

/// Records a search call and tells whether the calling thread is the sole caller, which may
/// keep the GIL for work up to [`HOLD_GIL_POSTINGS`].
pub(crate) fn sole_caller() -> bool {
    CALLERS.alone(thread_tag(), clock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_is_alone() {
        let c = Callers::new();
        for t in 1..200 {
            assert!(c.alone(1, t));
        }
    }

    #[test]
    fn callers_from_two_threads_release_it_until_one_is_alone_again() {
        let c = Callers::new();
        assert!(c.alone(1, 10));
        // Another thread calls: both release from then on, while they alternate.
        assert!(!c.alone(2, 15));
        assert!(!c.alone(1, 16));
        assert!(!c.alone(2, 20));
        // Thread 2 keeps calling alone: still "concurrent" within the window after the last
        // switch, alone afterwards.
        assert!(!c.alone(2, 20 + CONCURRENT_WINDOW_MS));
        assert!(c.alone(2, 21 + CONCURRENT_WINDOW_MS));
        // Threads that alternate only every few ms (each holding the GIL between its calls)
        // are seen as concurrent too.
        let c = Callers::new();
        assert!(c.alone(1, 1));
        assert!(!c.alone(2, 6));
        assert!(!c.alone(1, 11));
    }
}
