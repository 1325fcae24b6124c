//! A toolchain probe's result, kept once it succeeds. A failure is returned and not kept, so
//! the next eval probes again: a user who installs the missing tool, adds the Rust target or
//! fixes the environment need not restart the server.

use std::sync::{Mutex, OnceLock};

/// A value found by a probe that may fail; concurrent first uses run the probe once.
#[derive(Debug)]
pub struct Probe<T> {
    found: OnceLock<T>,
    probing: Mutex<()>,
}

impl<T> Default for Probe<T> {
    fn default() -> Probe<T> {
        Probe {
            found: OnceLock::new(),
            probing: Mutex::new(()),
        }
    }
}

impl<T> Probe<T> {
    /// The value, probing for it with `probe` unless an earlier probe found it.
    pub fn get_or_probe<E>(&self, probe: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        if let Some(found) = self.found.get() {
            return Ok(found);
        }
        let _one_at_a_time = self.probing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = self.found.get() {
            return Ok(found);
        }
        let value = probe()?;
        Ok(self.found.get_or_init(|| value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_probe_is_tried_again_and_a_success_is_kept() {
        let probe: Probe<u32> = Probe::default();
        assert_eq!(
            probe.get_or_probe(|| Err::<u32, _>("missing")),
            Err("missing")
        );
        assert_eq!(probe.get_or_probe(|| Ok::<_, &str>(7)), Ok(&7));
        assert_eq!(probe.get_or_probe(|| Err::<u32, _>("not asked")), Ok(&7));
    }
}
