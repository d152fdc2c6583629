//! Which examples a step trains on, as a pure function of (seed, step, micro-batch): a
//! resumed run sees exactly the data an uninterrupted one would.
//!
//! Sample number `i = ((step−1)·grad_accum + micro)·batch_size + row` runs through the
//! data set in epochs; each epoch is a fresh permutation drawn from (seed, epoch). The
//! generator is SplitMix64, spelled out here so the order never changes with a library.

/// SplitMix64's output function: a well-mixed 64-bit value from any input.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for the tuple `parts` (e.g. seed, step, micro).
    pub fn new(parts: &[u64]) -> Self {
        Rng(parts.iter().fold(0x6d6f_7465, |h, &p| mix(h ^ mix(p))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is below 2⁻³² for any n < 2³².
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Epoch-wise shuffled indices into a data set of `len` examples.
#[derive(Clone, Debug)]
pub struct Sampler {
    len: usize,
    seed: u64,
    /// The permutation of the epoch asked for last.
    cached: Option<(u64, Vec<u32>)>,
}

impl Sampler {
    pub fn new(len: usize, seed: u64) -> Self {
        assert!(len > 0, "a sampler needs at least one example");
        Sampler {
            len,
            seed,
            cached: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The example of sample number `i`.
    pub fn index(&mut self, i: u64) -> usize {
        let epoch = i / self.len as u64;
        if self.cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
            // Fisher–Yates from the epoch's own generator.
            let mut perm: Vec<u32> = (0..self.len as u32).collect();
            let mut rng = Rng::new(&[self.seed, epoch]);
            for k in (1..perm.len()).rev() {
                perm.swap(k, rng.below(k + 1));
            }
            self.cached = Some((epoch, perm));
        }
        let (_, perm) = self.cached.as_ref().expect("just filled");
        perm[(i % self.len as u64) as usize] as usize
    }

    /// The examples of micro-batch `micro` of step `step` (1-based).
    pub fn batch(
        &mut self,
        step: u64,
        micro: usize,
        grad_accum: usize,
        batch_size: usize,
    ) -> Vec<usize> {
        assert!(
            step >= 1 && micro < grad_accum,
            "step is 1-based, micro < grad_accum"
        );
        let first = ((step - 1) * grad_accum as u64 + micro as u64) * batch_size as u64;
        (0..batch_size as u64)
            .map(|r| self.index(first + r))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_permutations_and_pure() {
        let mut s = Sampler::new(10, 7);
        let mut seen: Vec<usize> = (0..10).map(|i| s.index(i)).collect();
        let first = seen.clone();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        let second: Vec<usize> = (10..20).map(|i| s.index(i)).collect();
        assert_ne!(first, second);
        // Asking out of order, or from a fresh sampler, gives the same answers.
        let mut t = Sampler::new(10, 7);
        assert_eq!(t.index(13), second[3]);
        assert_eq!(t.index(2), first[2]);
        assert_eq!(
            t.batch(2, 1, 2, 3),
            (9..12).map(|i| s.index(i)).collect::<Vec<_>>()
        );
        assert_ne!(Sampler::new(10, 8).batch(1, 0, 1, 10), first);
    }
}
