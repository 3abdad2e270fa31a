//! Deterministic IDs and dice: the same scenario and seed give the same IDs and faults.

/// Deterministic IDs: the same scenario and seed give the same IDs.
#[derive(Debug, Clone)]
pub struct IdGen(u64);

impl IdGen {
    pub fn new(seed: u64) -> Self {
        IdGen(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_uuids_and_deterministic() {
        let mut a = IdGen::new(7);
        let mut b = IdGen::new(7);
        let id = a.uuid();
        assert!(crate::wire::is_uuid(&id), "{id}");
        assert_eq!(id, b.uuid());
        assert_ne!(a.uuid(), id);
    }
}
