//! The progress bar on stderr: step, loss, tokens/s, ETA. Messages go through
//! [`Progress::note`] so they never tear the bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over steps `1..=steps`, already at `start`; hidden when `visible` is false.
    pub fn new(start: u64, steps: u64, visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(steps), target);
        let style = ProgressStyle::with_template(
            "{bar:30} step {pos}/{len} {msg} elapsed {elapsed} eta {eta}",
        )
        .expect("template is valid");
        bar.set_style(style);
        bar.set_position(start);
        bar.reset_eta();
        Progress { bar }
    }

    pub fn update(&self, step: u64, loss: f32, tokens_per_s: f64, eval_loss: Option<f32>) {
        let eval = eval_loss
            .map(|e| format!(" eval {e:.4}"))
            .unwrap_or_default();
        self.bar
            .set_message(format!("loss {loss:.4}{eval} {tokens_per_s:.0} tok/s"));
        self.bar.set_position(step);
    }

    /// Moves to `step` with a free-form message (stages that do not report a loss).
    pub fn show(&self, step: u64, message: String) {
        self.bar.set_message(message);
        self.bar.set_position(step);
    }

    /// Prints a line above the bar (always, even when the bar is hidden or stderr is no tty).
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    pub fn finish(&self) {
        self.bar.finish();
    }
}
