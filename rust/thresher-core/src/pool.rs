//! Thread pools for parallel work (indexing batches, batch search).
//!
//! One rayon pool per thread count, created on first use and reused. A pool remembers the
//! process id that created it: after `fork()` the worker threads do not exist in the child,
//! so a child that finds a pool from its parent builds a fresh one instead of deadlocking on
//! the old one (the failure mode tokenizers guards against with a `pthread_atfork` hook).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// Environment variable that sets the default thread count.
pub const THREADS_ENV: &str = "THRESHER_NUM_THREADS";

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
        return Ok(n);
    }
    if let Ok(v) = std::env::var(THREADS_ENV) {
        let v = v.trim();
        if !v.is_empty() {
            return match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(Error::invalid_argument(format!(
                    "{THREADS_ENV}={v:?} is not a positive integer"
                ))),
            };
        }
    }
    Ok(std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Cache of pools by thread count.
pub struct ThreadPools;

type PoolMap = HashMap<usize, (u32, Arc<rayon::ThreadPool>)>;

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
        if let Some((owner, pool)) = map.get(&n) {
            if *owner == pid {
                return Ok(pool.clone());
            }
            // Inherited through fork: its threads are gone. Leak it rather than drop it, since
            // dropping would try to signal threads that do not exist in this process.
            if let Some((_, old)) = map.remove(&n) {
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
        map.insert(n, (pid, pool.clone()));
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
    fn zero_threads_is_an_error_and_pools_are_reused() {
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
