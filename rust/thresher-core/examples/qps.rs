//! Single-thread throughput of each top-k algorithm, all in one process and interleaved so that
//! machine noise hits every algorithm alike.
//!
//! ```text
//! # a saved index and a BEIR queries file (only queries with test qrels when --qrels is given)
//! cargo run --release -p thresher-core --example qps -- --index DIR --queries queries.jsonl \
//!     [--qrels qrels/test.tsv] [--k 10,1000] [--reps 5]
//! # the anchors' synthetic Zipf corpus (built in memory, optionally saved / reloaded)
//! cargo run --release -p thresher-core --example qps -- --synthetic 1000000 [--save DIR]
//! # a saved synthetic index, with the same synthetic queries
//! cargo run --release -p thresher-core --example qps -- --index DIR --synthetic-queries
//! ```
//!
//! Reports, per k and algorithm, the best and median QPS over `--reps` passes over all queries
//! (queries parsed and analysed outside the timed loop), plus the index size.

#![allow(clippy::print_stdout)] // a command-line tool: printing is its output

#[path = "../benches/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use thresher_core::{Algorithm, Index, LoadOptions, Query, QueryInput, SearchOptions};

/// CPU time of this thread in seconds: unlike wall time it does not count the time other
/// processes on a shared machine take the core away.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we pass.
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ks: Vec<usize> = arg(&args, "--k")
        .unwrap_or_else(|| "10,1000".into())
        .split(',')
        .map(|k| k.parse().expect("k"))
        .collect();
    let reps: usize = arg(&args, "--reps").map_or(5, |r| r.parse().expect("reps"));
    let algorithms: Vec<Algorithm> = arg(&args, "--algorithms")
        .unwrap_or_else(|| "exhaustive,maxscore,bmw,auto".into())
        .split(',')
        .map(|a| Algorithm::from_name(a).expect("algorithm"))
        .collect();

    let (index, queries): (Index, Vec<Query>) = if let Some(n) = arg(&args, "--synthetic") {
        let syn = common::Synthetic::anchors(n.parse().expect("docs"));
        let t = Instant::now();
        let mut index = syn.build(None);
        eprintln!(
            "built {} docs in {:.1}s",
            index.num_docs(),
            t.elapsed().as_secs_f64()
        );
        if let Some(dir) = arg(&args, "--save") {
            index.save(&PathBuf::from(&dir)).expect("save");
            let t = Instant::now();
            index = Index::load(
                &PathBuf::from(&dir),
                LoadOptions {
                    mmap: true,
                    verify: false,
                },
            )
            .expect("load");
            eprintln!(
                "reloaded (mmap, no verify) in {:.3}s",
                t.elapsed().as_secs_f64()
            );
        }
        let qs = syn
            .queries(1000)
            .iter()
            .map(|q| index.query(QueryInput::Tokens(q)).expect("query"))
            .collect();
        (index, qs)
    } else {
        let dir = PathBuf::from(arg(&args, "--index").expect("--index or --synthetic"));
        let (rss0, _) = rss_mb();
        let t = Instant::now();
        let index = Index::load(
            &dir,
            LoadOptions {
                mmap: true,
                verify: false,
            },
        )
        .expect("load");
        let on_disk: u64 = std::fs::read_dir(&dir)
            .expect("index dir")
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "loaded {:.1} MB on disk in {:.4} s (mmap, verify=false); VmRSS before {rss0:.1} MB, after {:.1} MB",
            on_disk as f64 / 1e6,
            t.elapsed().as_secs_f64(),
            rss_mb().0
        );
        let keep: Option<HashSet<String>> = arg(&args, "--qrels").map(|p| {
            std::io::BufReader::new(std::fs::File::open(p).expect("qrels"))
                .lines()
                .skip(1)
                .filter_map(|l| l.ok()?.split('\t').next().map(str::to_owned))
                .collect()
        });
        if args.iter().any(|a| a == "--synthetic-queries") {
            let qs = common::Synthetic::anchors(index.num_docs())
                .queries(1000)
                .iter()
                .map(|q| index.query(QueryInput::Tokens(q)).expect("query"))
                .collect();
            return run(&index, qs, &ks, reps, &algorithms);
        }
        let file = arg(&args, "--queries").expect("--queries");
        let qs = std::io::BufReader::new(std::fs::File::open(file).expect("queries"))
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(&l.ok()?).ok()?;
                let id = v["_id"].as_str()?.to_string();
                if keep.as_ref().is_some_and(|k| !k.contains(&id)) {
                    return None;
                }
                let text = v["text"].as_str()?.to_string();
                Some(index.query(QueryInput::Text(&text)).expect("query"))
            })
            .collect();
        (index, qs)
    };
    run(&index, queries, &ks, reps, &algorithms);
}

/// VmRSS and VmHWM of this process in MB (Linux), for the memory-mapped search footprint.
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `--per-query FILE`: per query and k, the postings and terms of the query and the best time
/// of each algorithm over `reps` runs, as CSV (the data behind the `auto` rule).
fn per_query(
    index: &Index,
    queries: &[Query],
    ks: &[usize],
    reps: usize,
    algorithms: &[Algorithm],
    out: &str,
) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out).expect("csv"));
    let names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
    writeln!(
        f,
        "k,terms,postings,max_df,min_df,num_docs,{}",
        names.join(",")
    )
    .unwrap();
    for &k in ks {
        for q in queries {
            let dfs: Vec<u64> = q.terms().map(|(t, _)| index.doc_freq(t)).collect();
            let mut best = vec![f64::INFINITY; algorithms.len()];
            for _ in 0..reps {
                for (a, &algorithm) in algorithms.iter().enumerate() {
                    let options = SearchOptions {
                        algorithm,
                        allow: None,
                    };
                    let c = thread_cpu();
                    std::hint::black_box(index.search_with(q, k, &options).expect("search"));
                    best[a] = best[a].min(thread_cpu() - c);
                }
            }
            let times: Vec<String> = best.iter().map(|t| format!("{:.3e}", t)).collect();
            writeln!(
                f,
                "{k},{},{},{},{},{},{}",
                dfs.len(),
                dfs.iter().sum::<u64>(),
                dfs.iter().max().unwrap_or(&0),
                dfs.iter().min().unwrap_or(&0),
                index.num_docs(),
                times.join(",")
            )
            .unwrap();
        }
    }
}

fn run(index: &Index, queries: Vec<Query>, ks: &[usize], reps: usize, algorithms: &[Algorithm]) {
    if let Some(out) = arg(&std::env::args().collect::<Vec<_>>(), "--per-query") {
        return per_query(index, &queries, ks, reps, algorithms, &out);
    }
    let size: usize = index
        .segment_views()
        .iter()
        .map(|v| v.segment.size_bytes())
        .sum();
    println!(
        "{} docs, {} queries, index payload {:.2} MB",
        index.num_docs(),
        queries.len(),
        size as f64 / 1e6
    );
    let report_rss = || {
        let (rss, hwm) = rss_mb();
        println!("process VmRSS {rss:.1} MB, VmHWM {hwm:.1} MB");
    };
    for &k in ks {
        let mut wall: Vec<Vec<f64>> = vec![Vec::new(); algorithms.len()];
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); algorithms.len()];
        for _ in 0..reps {
            for (a, &algorithm) in algorithms.iter().enumerate() {
                let options = SearchOptions {
                    algorithm,
                    allow: None,
                };
                let (t, c) = (Instant::now(), thread_cpu());
                for q in &queries {
                    std::hint::black_box(index.search_with(q, k, &options).expect("search"));
                }
                cpu[a].push(thread_cpu() - c);
                wall[a].push(t.elapsed().as_secs_f64());
            }
        }
        let n = queries.len() as f64;
        for (a, algorithm) in algorithms.iter().enumerate() {
            let med = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let (w, c) = (med(&mut wall[a]), med(&mut cpu[a]));
            println!(
                "k={k:<5} {:<10} QPS (wall) median {:>9.0} best {:>9.0} | QPS (thread CPU time) median {:>9.0} best {:>9.0}",
                algorithm.name(),
                n / w,
                n / wall[a][0],
                n / c,
                n / cpu[a][0]
            );
        }
        report_rss();
    }
}
