//! Choosing the measured case a plan is built on: the operation's fastest case with real
//! I/O, optionally filtered by io engine and resilience (see the rules in [`super`]).

use serde::Serialize;

use super::{Operation, PlanError};
use crate::bench::model::Case;
use crate::bench::output::ReportFile;

/// Which measured cases may be used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only this io engine (also allows `null` and `mem`).
    pub io: Option<String>,
    /// Only this resilience.
    pub resilience: Option<String>,
}

/// The measured rate the plan is built on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// Run id of the results.
    pub run_id: String,
    /// volcrypt version of the results.
    pub volcrypt_version: String,
    /// Git commit of the results.
    pub git_commit: String,
    /// Host of the results.
    pub host: String,
    /// CPU model of the results.
    pub cpu_model: String,
    /// CPUs of the measured host (0 when unknown).
    pub cpus: usize,
    /// [`Case::label`] of the chosen case.
    pub label: String,
    /// The chosen case.
    pub case: Case,
    /// Its per-host rate: bytes/s, or volumes/s for `rewrap`.
    pub host_rate: f64,
    /// Per core: `host_rate / threads`.
    pub per_core_rate: f64,
}

/// Selects the case to plan `op` from (see the module docs).
pub fn select(view: &ReportFile, op: Operation, f: &Filters) -> Result<Measured, PlanError> {
    let rate = |bw: f64, iops: f64| if op == Operation::Rewrap { iops } else { bw };
    let best = view
        .cases
        .iter()
        .filter(|c| c.case.workload == op.name() && c.case.threads > 0)
        .filter(|c| match &f.io {
            Some(io) => &c.case.io == io,
            None => c.case.io != "null" && c.case.io != "mem",
        })
        .filter(|c| {
            f.resilience
                .as_ref()
                .is_none_or(|r| &c.case.resilience == r)
        })
        .filter(|c| rate(c.bw_median, c.iops_median) > 0.0)
        .max_by(|a, b| {
            let (ra, rb) = (
                rate(a.bw_median, a.iops_median),
                rate(b.bw_median, b.iops_median),
            );
            ra.total_cmp(&rb).then(b.case.threads.cmp(&a.case.threads))
        });
    let Some(c) = best else {
        let mut filters = String::new();
        if let Some(io) = &f.io {
            filters.push_str(&format!(" with io {io}"));
        }
        if let Some(r) = &f.resilience {
            filters.push_str(&format!(" with resilience {r}"));
        }
        let labels: Vec<String> = view
            .cases
            .iter()
            .map(|c| format!("{} ({})", c.case.label(), c.case.workload))
            .collect();
        return Err(PlanError::NoCase {
            operation: op.name().to_string(),
            filters,
            available: if labels.is_empty() {
                "none".to_string()
            } else {
                labels.join(", ")
            },
        });
    };
    let host_rate = rate(c.bw_median, c.iops_median);
    Ok(Measured {
        run_id: view.meta.run_id.clone(),
        volcrypt_version: view.meta.volcrypt_version.clone(),
        git_commit: view.meta.git_commit.clone(),
        host: view.meta.host.clone(),
        cpu_model: view.meta.cpu_model.clone(),
        cpus: view.meta.cpus,
        label: c.case.label(),
        case: c.case.clone(),
        host_rate,
        per_core_rate: host_rate / c.case.threads as f64,
    })
}
