//! simnet's integration tests: one test binary (linking libp2p once keeps
//! builds fast on two cores), with one module per topic.

mod cli;
mod explore;
mod hostile;
mod loopback;
mod planted_bugs;
#[cfg(feature = "reference")]
mod reference;
mod report;
mod scenarios;
mod sim;
mod snapshots;
mod util;
