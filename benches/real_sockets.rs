//! simnet's nodes over real sockets (127.0.0.1, tokio TCP + noise + yamux),
//! each figure beside a baseline measured in the same run:
//!
//! - `handshake`: dial → both sides `Verified` (`simnet`), against dial →
//!   both sides connected with no protocol on the connection (`bare`); one
//!   dialer (latency), and 16 dialing one listener at once (handshakes/s).
//! - `direct`: echoed direct messages of 64 B … 1 MiB, 1 or 32 in flight,
//!   against bare libp2p request-response with a bytes codec (`bare_rr`) and a
//!   raw TCP echo of length-prefixed frames (`tcp_echo`, the limit).
//! - `broadcast`: 20 messages from one publisher to 2, 8 or 16 subscribers,
//!   against bare gossipsub with the same configuration (`bare_gossip`).
//!
//! Each comparison runs twice: criterion measures each side on its own
//! (the medians in the report), then [`interleave`] measures simnet and its
//! baseline in alternation, round by round, for ratios a noisy machine can
//! trust (`-- interleaved` runs only those). `SIMNET_BENCH_QUICK=1` or
//! `--test` takes few samples (a smoke run); `cargo run -- bench-report`
//! turns the results into `reports/bench.md`. Every wait is bounded by
//! [`WAIT`]; nothing listens beyond 127.0.0.1.

#[path = "real_sockets/bare.rs"]
mod bare;
#[path = "real_sockets/interleave.rs"]
mod interleave;
#[path = "real_sockets/ours.rs"]
mod ours;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use interleave::Interleaver;
use simnet::implementation::{Implementation, NodeBuilder};
use tokio::runtime::Runtime;

/// Longest any benchmark waits for one expected event before failing.
pub const WAIT: Duration = Duration::from_secs(30);

const PAYLOADS: [(usize, &str); 4] = [
    (64, "64B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];
const IN_FLIGHT: [usize; 2] = [1, 32];
const SUBSCRIBERS: [usize; 3] = [2, 8, 16];
/// Handshakes in flight at once: one dialer, or 16 dialing one listener.
const DIALERS: [usize; 2] = [1, 16];
const BROADCASTS: usize = 20;

fn quick() -> bool {
    std::env::var_os("SIMNET_BENCH_QUICK").is_some()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    if quick() {
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(500));
    } else {
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
    }
}

/// One benchmark side: runs `iters` iterations and returns their time.
type SideFn<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

fn handshake(c: &mut Criterion, inter: &mut Interleaver) {
    let rt = runtime();
    let mut group = c.benchmark_group("handshake");
    configure(&mut group);
    for n in DIALERS {
        group.throughput(Throughput::Elements(n as u64));
        let mut ours = verified_connections(&rt, n, Implementation::Simnet);
        let mut bare = bare_connections(&rt, n);
        group.bench_function(BenchmarkId::new("simnet", n), |b| b.iter_custom(&mut ours));
        group.bench_function(BenchmarkId::new("bare", n), |b| b.iter_custom(&mut bare));
        inter.compare("handshake", &n.to_string(), "bare", &mut ours, &mut bare);
        // The reference never forgets a verified peer (it would skip the
        // handshake on a reconnect), so both sides dial with new nodes.
        #[cfg(feature = "reference")]
        if inter.wants("handshake", &format!("{n}-new")) {
            let mut ours = new_dialers_verified(&rt, n, Implementation::Simnet);
            let mut reference = new_dialers_verified(&rt, n, Implementation::Reference);
            inter.compare(
                "handshake",
                &format!("{n}-new"),
                simnet::bench_report::interleaved::REFERENCE_BASELINE,
                &mut ours,
                &mut reference,
            );
        }
    }
    group.finish();
}

/// `n` nodes of `implementation` dial one listener; timed until every side
/// is `Verified`, then disconnected untimed.
fn verified_connections(rt: &Runtime, n: usize, implementation: Implementation) -> SideFn<'_> {
    let builder = NodeBuilder::new(implementation).expect("built with this implementation");
    let (mut dialers, mut listener) = rt.block_on(async {
        let mut dialers = Vec::with_capacity(n);
        for _ in 0..n {
            dialers.push(ours::start_on(&builder).await);
        }
        (dialers, ours::start_on(&builder).await)
    });
    Box::new(move |iters| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += ours::verify_all(&mut dialers, &mut listener).await;
            }
            total
        })
    })
}

/// `n` new nodes of `implementation`, started untimed, dial one listener;
/// timed until every side is `Verified`, then disconnected and dropped
/// untimed: every handshake is between peers that never met.
#[cfg(feature = "reference")]
fn new_dialers_verified(rt: &Runtime, n: usize, implementation: Implementation) -> SideFn<'_> {
    let builder = NodeBuilder::new(implementation).expect("built with this implementation");
    let mut listener = rt.block_on(ours::start_on(&builder));
    Box::new(move |iters| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut dialers = Vec::with_capacity(n);
                for _ in 0..n {
                    dialers.push(ours::start_on(&builder).await);
                }
                total += ours::verify_all(&mut dialers, &mut listener).await;
            }
            total
        })
    })
}

/// `n` bare swarms dial one listener; timed until every side is connected
/// (noise + yamux), then disconnected untimed.
fn bare_connections(rt: &Runtime, n: usize) -> SideFn<'_> {
    let (dialers, mut y) = rt.block_on(async {
        let mut dialers = Vec::with_capacity(n);
        for _ in 0..n {
            dialers.push(bare::connection_node().await);
        }
        (dialers, bare::connection_node().await)
    });
    let mut dialers = dialers;
    let ids: Vec<_> = dialers.iter().map(|d| d.id).collect();
    Box::new(move |iters| {
        rt.block_on(async {
            let yid = y.id;
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                for x in &dialers {
                    x.order(bare::Order::Dial(y.address.clone()));
                }
                for x in dialers.iter_mut() {
                    x.wait(|r| matches!(r, bare::Report::Established(p) if *p == yid))
                        .await;
                }
                y.wait_each(&ids, |r| match r {
                    bare::Report::Established(p) => Some(*p),
                    _ => None,
                })
                .await;
                total += started.elapsed();
                for x in dialers.iter_mut() {
                    x.order(bare::Order::Disconnect(yid));
                    x.wait(|r| matches!(r, bare::Report::Closed(p) if *p == yid))
                        .await;
                }
                y.wait_each(&ids, |r| match r {
                    bare::Report::Closed(p) => Some(*p),
                    _ => None,
                })
                .await;
            }
            total
        })
    })
}

fn direct(c: &mut Criterion, inter: &mut Interleaver) {
    let rt = runtime();
    let mut group = c.benchmark_group("direct");
    configure(&mut group);

    let (mut client, server_id) = rt.block_on(async {
        let (mut a, mut b) = (ours::start().await, ours::start().await);
        ours::connect(&mut a, &mut b).await;
        let id = b.id;
        let _server = ours::serve_in_background(b);
        (a, id)
    });
    let (mut rr_client, rr_server) = rt.block_on(async {
        let (mut a, b) = (bare::rr_node().await, bare::rr_node().await);
        a.order(bare::Order::Dial(b.address.clone()));
        let bid = b.id;
        a.wait(|r| matches!(r, bare::Report::Established(p) if *p == bid))
            .await;
        (a, b)
    });
    let mut echo =
        rt.block_on(async { bare::TcpEcho::connect(bare::tcp_echo_server().await).await });

    for (size, label) in PAYLOADS {
        let payload = bytes::Bytes::from(vec![0xa5u8; size]);
        for in_flight in IN_FLIGHT {
            if quick() && size == 1024 * 1024 && in_flight == 32 {
                // 64 MiB echoed per iteration: too slow for a smoke run.
                continue;
            }
            let id = format!("{label}-{in_flight}");
            group.throughput(Throughput::Bytes((size * in_flight) as u64));
            let mut ours = |iters: u64| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        ours::requests(&mut client, server_id, &payload, in_flight).await;
                    }
                    started.elapsed()
                })
            };
            let mut bare_rr = |iters: u64| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        for _ in 0..in_flight {
                            rr_client.order(bare::Order::Request(rr_server.id, payload.clone()));
                        }
                        for _ in 0..in_flight {
                            rr_client
                                .wait(|r| matches!(r, bare::Report::Response))
                                .await;
                        }
                    }
                    started.elapsed()
                })
            };
            group.bench_function(BenchmarkId::new("simnet", &id), |b| {
                b.iter_custom(&mut ours)
            });
            group.bench_function(BenchmarkId::new("bare_rr", &id), |b| {
                b.iter_custom(&mut bare_rr)
            });
            group.bench_function(BenchmarkId::new("tcp_echo", &id), |b| {
                b.iter(|| rt.block_on(echo.round_trips(&payload, in_flight)))
            });
            inter.compare("direct", &id, "bare_rr", &mut ours, &mut bare_rr);
        }
    }
    group.finish();
}

fn broadcast(c: &mut Criterion, inter: &mut Interleaver) {
    let rt = runtime();
    let mut group = c.benchmark_group("broadcast");
    configure(&mut group);
    for n in SUBSCRIBERS {
        group.throughput(Throughput::Elements((n * BROADCASTS) as u64));
        let mut ours = simnet_broadcasts(&rt, n);
        let mut bare = bare_broadcasts(&rt, n);
        group.bench_function(BenchmarkId::new("simnet", n), |b| b.iter_custom(&mut ours));
        group.bench_function(BenchmarkId::new("bare_gossip", n), |b| {
            b.iter_custom(&mut bare)
        });
        inter.compare(
            "broadcast",
            &n.to_string(),
            "bare_gossip",
            &mut ours,
            &mut bare,
        );
    }
    group.finish();
}

/// A simnet publisher with `n` subscribers; each iteration publishes
/// [`BROADCASTS`] messages and waits until every subscriber has them all.
fn simnet_broadcasts(rt: &Runtime, n: usize) -> SideFn<'_> {
    let (publisher, mut subscribers) = rt.block_on(ours::star(n, "bench"));
    Box::new(move |iters| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..iters {
                ours::broadcast(&publisher, &mut subscribers, "bench", BROADCASTS).await;
            }
            started.elapsed()
        })
    })
}

/// The same with bare gossipsub and the same configuration.
fn bare_broadcasts(rt: &Runtime, n: usize) -> SideFn<'_> {
    let (publisher, mut subscribers) = rt.block_on(async {
        let mut publisher = bare::gossip_node().await;
        let mut subscribers = Vec::with_capacity(n);
        for _ in 0..n {
            let s = bare::gossip_node().await;
            s.order(bare::Order::Dial(publisher.address.clone()));
            subscribers.push(s);
        }
        // Each subscriber's connection, then its subscription, reported
        // to the publisher (both as `Established`).
        for _ in 0..2 * n {
            publisher
                .wait(|r| matches!(r, bare::Report::Established(_)))
                .await;
        }
        (publisher, subscribers)
    });
    Box::new(move |iters| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..iters {
                for i in 0..BROADCASTS {
                    publisher.order(bare::Order::Publish(format!("message {i}").into_bytes()));
                }
                for s in subscribers.iter_mut() {
                    for _ in 0..BROADCASTS {
                        s.wait(|r| matches!(r, bare::Report::Message)).await;
                    }
                }
            }
            started.elapsed()
        })
    })
}

/// Criterion's filter, if one was given: the first argument that is neither
/// a flag nor a flag's value.
fn filter(args: &[String]) -> Option<String> {
    const TAKES_VALUE: [&str; 16] = [
        "--color",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--plotting-backend",
        "--output-format",
        "--format",
    ];
    let mut previous: Option<&str> = None;
    for arg in args.iter().skip(1) {
        if !arg.starts_with('-') && previous.is_none_or(|p| !TAKES_VALUE.contains(&p)) {
            return Some(arg.clone());
        }
        previous = Some(arg);
    }
    None
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = quick() || args.iter().any(|a| a == "--test");
    let mut criterion = Criterion::default().configure_from_args();
    let mut inter = Interleaver::new(smoke, filter(&args));
    if !args.iter().any(|a| a == "--list") {
        handshake(&mut criterion, &mut inter);
        direct(&mut criterion, &mut inter);
        broadcast(&mut criterion, &mut inter);
    }
    criterion.final_summary();
    inter.finish();
}
