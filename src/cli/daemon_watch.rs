//! Showing a daemon job: a one-line description, and `--watch`, which polls the job until it
//! ends, as a progress bar on a terminal or a line every few seconds otherwise. The exit
//! code follows the job: 0 succeeded, 1 failed or cancelled.

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::daemon::client::Client;

fn mb(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(0.0) / 1e6
}

/// One line: id, op, volume, state, progress, throughput, ETA, error.
pub fn describe(j: &Value) -> String {
    let mut s = format!(
        "job {} {} {}: {}, {:.1}% ({}/{} chunks, {:.1}/{:.1} MB)",
        j["id"],
        j["spec"]["op"].as_str().unwrap_or("?"),
        j["spec"]["volume"].as_str().unwrap_or("?"),
        j["state"].as_str().unwrap_or("?"),
        j["percent"].as_f64().unwrap_or(0.0),
        j["chunks_done"],
        j["chunks_total"],
        mb(j, "bytes_done"),
        mb(j, "bytes_total"),
    );
    if j["state"] == "running" {
        s.push_str(&format!(", {:.1} MB/s", mb(j, "bytes_per_sec")));
        if let Some(eta) = j["eta_secs"].as_f64() {
            s.push_str(&format!(", ETA {eta:.0} s"));
        }
    }
    if let Some(e) = j["error"].as_str() {
        s.push_str(&format!("; {e}"));
    }
    s
}

fn is_final(state: &str) -> bool {
    matches!(state, "succeeded" | "failed" | "cancelled")
}

/// Follows job `id` until it ends.
pub fn watch(client: &Client, id: u64, quiet: bool) -> anyhow::Result<ExitCode> {
    let tty = !quiet && std::io::stderr().is_terminal();
    let bar = if tty {
        let b = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        Some(b)
    } else {
        None
    };
    let mut last_line = std::time::Instant::now();
    let j = loop {
        let j = client.status(id)?;
        let state = j["state"].as_str().unwrap_or("?").to_owned();
        if let Some(b) = &bar {
            b.set_length(j["bytes_total"].as_u64().unwrap_or(0));
            b.set_position(j["bytes_done"].as_u64().unwrap_or(0));
            b.set_message(format!("job {id} {}", state));
        } else if !quiet && last_line.elapsed().as_secs() >= 5 {
            eprintln!("{}", describe(&j));
            last_line = std::time::Instant::now();
        }
        if is_final(&state) {
            break j;
        }
        std::thread::sleep(super::daemon::POLL);
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !quiet {
        eprintln!("{}", describe(&j));
    }
    Ok(if j["state"] == "succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
