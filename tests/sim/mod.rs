//! The unmodified protocol nodes inside the turmoil simulation.

mod determinism;
mod faults;
mod network;
