//! simnet: the peer-to-peer protocol of `shared/seeds/networking-protocol.md`
//! on real rust-libp2p, a deterministic simulated network to run it in, and a
//! conformance harness around both.
//!
//! Modules, with dependencies pointing one way only:
//!
//! - [`protocol`]: the protocol itself (wire format, handshake, peer manager,
//!   the libp2p behaviour and the [`protocol::Node`] that drives it). It knows
//!   nothing of simulation.
//! - `reference` (cargo feature `reference`): the reference implementation,
//!   `blueprint-networking`, behind the same node commands and events.
//! - [`implementation`]: which of the two runs a node; every network builds
//!   its nodes there.
//! - [`net`]: what the simulator and real sockets share: the network a runner
//!   drives, its faults, the trace, node identities, and real nodes on
//!   127.0.0.1.
//! - [`sim`]: the deterministic simulated network the same nodes run in.
//! - [`scenario`]: YAML scenarios, their runner, expectations and invariants.
//! - [`report`]: JUnit, Markdown and JSON reports of a conformance run.
//! - [`bench_report`]: `reports/bench.md` and its chart from criterion's
//!   results (`simnet bench-report`).
//! - [`fuzz`]: a bounded fuzzer of the decoders, the handshake verifier and
//!   the scenario loader (`simnet fuzz`).

pub mod bench_report;
pub mod explore;
pub mod fuzz;
pub mod implementation;
pub mod net;
pub mod protocol;
#[cfg(feature = "reference")]
pub mod reference;
pub mod report;
pub mod scenario;
pub mod sim;
