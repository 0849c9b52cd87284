//! Input generation for the fuzzer: random bytes and mutations of valid
//! inputs (bit flips, truncations, huge length fields, splices), all drawn
//! from one seeded generator so a run is reproducible.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Longest input generated, in bytes.
pub const MAX_INPUT: usize = 4096;

/// A seeded source of fuzz inputs.
pub struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    /// A mutator whose every choice follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.rng.next_u64() % n as u64) as usize
        }
    }

    /// The next input: random bytes one time in eight, otherwise one to four
    /// mutations of a randomly chosen `seeds` entry.
    pub fn next_input(&mut self, seeds: &[Vec<u8>]) -> Vec<u8> {
        if seeds.is_empty() || self.below(8) == 0 {
            let len = self.below(256);
            let mut bytes = vec![0u8; len];
            self.rng.fill_bytes(&mut bytes);
            return bytes;
        }
        let mut input = seeds[self.below(seeds.len())].clone();
        for _ in 0..=self.below(4) {
            self.mutate(&mut input, seeds);
        }
        input.truncate(MAX_INPUT);
        input
    }

    fn mutate(&mut self, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
        match self.below(7) {
            0 | 1 => {
                if !input.is_empty() {
                    let bit = self.below(input.len() * 8);
                    input[bit / 8] ^= 1 << (bit % 8);
                }
            }
            2 => input.truncate(self.below(input.len() + 1)),
            3 => {
                // A length or counter field set to an extreme value.
                let extremes: [u64; 5] = [0, 1, u32::MAX as u64, u64::MAX, 1 << 31];
                let value = extremes[self.below(extremes.len())];
                let width = if self.below(2) == 0 { 4 } else { 8 };
                let bytes = value.to_be_bytes();
                let at = self.below(input.len() + 1);
                let end = (at + width).min(input.len());
                input.splice(at..end, bytes[8 - width..].iter().copied());
            }
            4 => {
                let at = self.below(input.len() + 1);
                let mut extra = vec![0u8; 1 + self.below(16)];
                self.rng.fill_bytes(&mut extra);
                input.splice(at..at, extra);
            }
            5 => {
                if !input.is_empty() {
                    let start = self.below(input.len());
                    let end = start + self.below(input.len() - start + 1);
                    input.drain(start..end);
                }
            }
            _ => {
                // Splice in the tail of another seed.
                let other = &seeds[self.below(seeds.len())];
                let at = self.below(input.len() + 1);
                let from = self.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let seeds = vec![b"hello world".to_vec(), vec![0, 1, 2, 3]];
        let (mut a, mut b) = (Mutator::new(9), Mutator::new(9));
        for _ in 0..100 {
            assert_eq!(a.next_input(&seeds), b.next_input(&seeds));
        }
    }

    #[test]
    fn inputs_stay_bounded() {
        let seeds = vec![vec![7u8; MAX_INPUT]];
        let mut m = Mutator::new(1);
        for _ in 0..1000 {
            assert!(m.next_input(&seeds).len() <= MAX_INPUT);
        }
    }
}
