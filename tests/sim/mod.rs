//! The unmodified protocol nodes inside the turmoil simulation.

mod determinism;
mod engine;
mod faults;
mod network;
