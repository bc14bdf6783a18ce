//! A terminal progress bar (indicatif) behind the engine's `Progress` trait. Shown only when
//! stderr is a terminal and `--quiet` is off; otherwise the CLI is silent until the summary.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::Progress;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, total: u64, done: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
        self.0.reset_eta();
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A progress bar labelled `op`, or `None` when stderr is not a terminal or output is quiet.
pub fn bar(op: &str, quiet: bool) -> Option<Arc<dyn Progress>> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_prefix(op.to_owned());
    Some(Arc::new(Bar(pb)))
}
