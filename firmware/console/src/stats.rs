//! Timing of the last turn, for `/stats`.

use core::fmt;

use crate::term::Milli;

/// The last turn's token counts and ticks, prompt and reply apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TurnStats {
    pub prompt_tokens: usize,
    pub prompt_ticks: u64,
    pub reply_tokens: usize,
    pub reply_ticks: u64,
    /// Old turns dropped to make room.
    pub dropped_turns: usize,
}

/// One phase of a turn, displayed as `N tokens in T unit, P unit/token[, R tokens/s]`.
pub(crate) struct Phase {
    pub tokens: usize,
    pub ticks: u64,
    pub ticks_per_unit: u64,
    pub unit: &'static str,
}

/// `a * b / c` in thousandths without overflow, saturating; `None` when `c` is 0.
fn milli(a: u64, b: u64, c: u64) -> Option<Milli> {
    let v = (a as u128 * b as u128 * 1000).checked_div(c as u128)?;
    Some(Milli(u64::try_from(v).unwrap_or(u64::MAX)))
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tpu = self.ticks_per_unit.max(1);
        let n = self.tokens as u64;
        write!(f, "{n} tokens")?;
        if tpu == 1 && self.unit != "s" {
            // Whole units (e.g. instructions): no fractions to show.
            write!(f, " in {} {}", self.ticks, self.unit)?;
            if let Some(per) = self.ticks.checked_div(n) {
                write!(f, ", {per} {}/token", self.unit)?;
            }
            return Ok(());
        }
        if let Some(t) = milli(self.ticks, 1, tpu) {
            write!(f, " in {t} {}", self.unit)?;
        }
        if self.unit == "s" {
            // Milliseconds: a token takes well under a second on most boards.
            if let Some(per) = milli(self.ticks, 1000, tpu.saturating_mul(n)) {
                write!(f, ", {per} ms/token")?;
            }
            if let Some(rate) = milli(n, tpu, self.ticks) {
                write!(f, ", {rate} tokens/s")?;
            }
        } else if let Some(per) = milli(self.ticks, 1, tpu.saturating_mul(n)) {
            write!(f, ", {per} {}/token", self.unit)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn seconds_show_a_rate() {
        let p = Phase {
            tokens: 4,
            ticks: 2_000,
            ticks_per_unit: 1_000,
            unit: "s",
        };
        assert_eq!(
            p.to_string(),
            "4 tokens in 2.000 s, 500.000 ms/token, 2.000 tokens/s"
        );
    }

    #[test]
    fn other_units_show_units_per_token() {
        let p = Phase {
            tokens: 3,
            ticks: 3_000_000,
            ticks_per_unit: 1,
            unit: "instr",
        };
        assert_eq!(
            p.to_string(),
            "3 tokens in 3000000 instr, 1000000 instr/token"
        );
        let none = Phase {
            tokens: 0,
            ticks: 0,
            ticks_per_unit: 0,
            unit: "s",
        };
        assert_eq!(none.to_string(), "0 tokens in 0.000 s");
    }
}
