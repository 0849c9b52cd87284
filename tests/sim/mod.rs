//! The unmodified protocol nodes inside the turmoil simulation.

mod faults;
mod network;
