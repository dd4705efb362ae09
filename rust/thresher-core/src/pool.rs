//! Thread pools for parallel work (indexing batches, batch search).
//!
//! One rayon pool per thread count, created on first use and reused; at most [`MAX_POOLS`]
//! are kept (the least recently used one is dropped, its threads end when its last job does).
//! Thread counts above [`MAX_THREADS`] are refused. A pool remembers the
//! process id that created it: after `fork()` the worker threads do not exist in the child,
//! so a child that finds a pool from its parent builds a fresh one instead of deadlocking on
//! the old one (the failure mode tokenizers guards against with a `pthread_atfork` hook).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// Environment variable that sets the default thread count.
pub const THREADS_ENV: &str = "THRESHER_NUM_THREADS";

/// The largest thread count accepted: far beyond any useful parallelism, small enough that a
/// typo (or `2**40`) is an error instead of an attempt to start that many OS threads.
pub const MAX_THREADS: usize = 1024;

/// Pools kept alive at once (a program cycling through thread counts must not keep every
/// pool's threads forever).
pub const MAX_POOLS: usize = 4;

fn check_max(n: usize, what: &str) -> Result<usize> {
    if n > MAX_THREADS {
        return Err(Error::invalid_argument(format!(
            "{what} is {n}, more than the {MAX_THREADS} threads thresher accepts"
        )));
    }
    Ok(n)
}

/// Resolves a requested thread count: the argument, else `THRESHER_NUM_THREADS`, else the
/// number of available cores.
///
/// # Errors
/// [`Error::InvalidArgument`] for 0 threads or an unparsable environment value.
pub fn resolve_threads(threads: Option<usize>) -> Result<usize> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(Error::invalid_argument(
                "threads must be at least 1 (or None for the default)",
            ));
        }
        return check_max(n, "threads");
    }
    if let Ok(v) = std::env::var(THREADS_ENV) {
        let v = v.trim();
        if !v.is_empty() {
            return match v.parse::<usize>() {
                Ok(n) if n > 0 => check_max(n, THREADS_ENV),
                _ => Err(Error::invalid_argument(format!(
                    "{THREADS_ENV}={v:?} is not a positive integer"
                ))),
            };
        }
    }
    Ok(available_cores())
}

/// `std::thread::available_parallelism`, read once per process: on Linux it reads cgroup
/// files every call, which cost ~28 us of every `search_batch` call with the default thread
/// count (a one-query batch on SciFact took 47 us against 19 us for `search`). A process
/// that narrows its CPU affinity later keeps the first count as its default, as rayon's
/// global pool does; an explicit count or `THRESHER_NUM_THREADS` still applies at once.
fn available_cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Cache of pools by thread count.
pub struct ThreadPools;

/// Thread count -> (creating process id, last use, pool).
type PoolMap = HashMap<usize, (u32, u64, Arc<rayon::ThreadPool>)>;

fn pools() -> &'static Mutex<PoolMap> {
    static POOLS: OnceLock<Mutex<PoolMap>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

impl ThreadPools {
    /// The pool for `threads` (resolved as in [`resolve_threads`]).
    ///
    /// # Errors
    /// As [`resolve_threads`], or when the OS refuses to start threads.
    pub fn get(threads: Option<usize>) -> Result<Arc<rayon::ThreadPool>> {
        let n = resolve_threads(threads)?;
        let pid = std::process::id();
        let mut map = pools().lock().unwrap_or_else(|e| e.into_inner());
        static CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some((owner, used, pool)) = map.get_mut(&n) {
            if *owner == pid {
                *used = now;
                return Ok(pool.clone());
            }
            // Inherited through fork: its threads are gone. Leak it rather than drop it, since
            // dropping would try to signal threads that do not exist in this process.
            if let Some((_, _, old)) = map.remove(&n) {
                std::mem::forget(old);
            }
        }
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("thresher-{i}"))
                .build()
                .map_err(|e| Error::invalid_argument(format!("cannot start {n} threads: {e}")))?,
        );
        while map.len() >= MAX_POOLS {
            let Some(lru) = map.iter().min_by_key(|(_, e)| e.1).map(|(&k, _)| k) else {
                break;
            };
            if let Some((owner, _, old)) = map.remove(&lru) {
                if owner != pid {
                    std::mem::forget(old);
                }
            }
        }
        map.insert(n, (pid, now, pool.clone()));
        Ok(pool)
    }

    /// Runs `f` inside the pool for `threads`.
    ///
    /// # Errors
    /// As [`ThreadPools::get`].
    pub fn install<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
        let pool = Self::get(threads)?;
        Ok(pool.install(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_reused_few_are_kept_and_bad_counts_refused() {
        let e = resolve_threads(Some(MAX_THREADS + 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than the 1024 threads"), "{e}");
        assert!(ThreadPools::get(Some(1 << 40)).is_err());
        assert_eq!(resolve_threads(Some(MAX_THREADS)).unwrap(), MAX_THREADS);
        for n in 1..=MAX_POOLS + 3 {
            ThreadPools::install(Some(n), || ()).unwrap();
            assert!(pools().lock().unwrap().len() <= MAX_POOLS);
        }
        // The most recent counts are the ones kept.
        assert!(pools().lock().unwrap().contains_key(&(MAX_POOLS + 3)));
        // One test, not two: the pool cache is process-wide and tests run in parallel.
        assert!(resolve_threads(Some(0)).is_err());
        assert_eq!(resolve_threads(Some(3)).unwrap(), 3);
        let a = ThreadPools::get(Some(2)).unwrap();
        let b = ThreadPools::get(Some(2)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            ThreadPools::install(Some(2), rayon::current_num_threads).unwrap(),
            2
        );
    }
}
