//! Hostile input: property tests of the decoders and the handshake verifier,
//! a short fixed-seed fuzz pass, and a corpus of bad scenario files and
//! command lines. (Flood scenarios live in `scenarios/` with the others.)

mod corpus;
mod fuzz;
mod properties;
