//! A [`Plan`] as Markdown: what it is based on, then capacity, KMS load and monthly cost
//! tables, the pricing source and the caveats.

use std::fmt::Write as _;

use super::{Operation, Plan};

/// Binary size with two decimals (`100.00 GiB`).
fn size(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2} {}", UNITS[i])
}

/// A duration in seconds as `13.4 s`, `12.5 min` or `7.46 h`.
fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.1} s")
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.2} h", secs / 3600.0)
    }
}

fn calls_text(p: &Plan) -> String {
    let c = p.kms.calls_per_volume;
    let mut parts = Vec::new();
    for (n, name) in [
        (c.decrypt, "Decrypt"),
        (c.generate_data_key, "GenerateDataKey"),
        (c.re_encrypt, "ReEncrypt"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {name}"));
        }
    }
    parts.join(" + ")
}

/// The plan as Markdown.
pub fn markdown(p: &Plan) -> String {
    let f = &p.fleet;
    let m = &p.measured;
    let c = &p.capacity;
    let k = &p.kms;
    let rewrap = f.operation == Operation::Rewrap;
    let rate = |r: f64| {
        if rewrap {
            format!("{r:.2} volumes/s")
        } else {
            format!("{:.1} MB/s", r / 1e6)
        }
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# volcrypt plan: {} of {} volumes x {} in {} h\n",
        f.operation.name(),
        f.volumes,
        size(f.avg_size as f64),
        f.window_hours
    );
    let _ = writeln!(
        o,
        "Based on results `{}` (volcrypt {}, commit {}, host {}, {}): case `{}` (io {}, \
         crypto {}, resilience {}), {} with {} thread(s) = {} per core.\n",
        m.run_id,
        m.volcrypt_version,
        m.git_commit,
        m.host,
        m.cpu_model,
        m.label,
        m.case.io,
        m.case.backend,
        m.case.resilience,
        rate(m.host_rate),
        m.case.threads,
        rate(m.per_core_rate),
    );
    let _ = writeln!(o, "## Capacity\n\n| quantity | value |\n|---|---:|");
    if !rewrap {
        let _ = writeln!(o, "| data | {} |", size(c.total_bytes as f64));
    }
    let _ = writeln!(
        o,
        "| one host ({} cores) | {} |",
        f.cores_per_host,
        rate(c.host_rate)
    );
    let _ = writeln!(
        o,
        "| one volume on one host | {} |",
        duration(c.volume_secs)
    );
    let _ = writeln!(o, "| host-hours | {:.2} |", c.host_hours);
    let _ = writeln!(
        o,
        "| **hosts** (window {} h) | **{}** |",
        f.window_hours, c.hosts
    );
    let _ = writeln!(o, "| cores | {} |", c.cores);
    let _ = writeln!(
        o,
        "| fleet time with {} host(s) | {:.2} h |\n",
        c.hosts, c.fleet_hours
    );

    let _ = writeln!(o, "## KMS\n\n| quantity | value |\n|---|---:|");
    let _ = writeln!(o, "| calls per volume | {} |", calls_text(p));
    if k.calls_per_volume.generate_data_key > 0 {
        let _ = writeln!(o, "| volumes per data key | {} |", k.volumes_per_data_key);
    }
    let _ = writeln!(o, "| requests per pass | {} |", k.requests_per_pass);
    let _ = writeln!(o, "| steady requests/s | {:.2} |", k.steady_rps);
    let _ = writeln!(o, "| **peak requests/s** | **{:.2}** |", k.peak_rps);
    let _ = writeln!(
        o,
        "| quota tier | {} req/s ({}) |",
        k.quota_rps, p.quota_tier.note
    );
    let status = if k.within_quota { "OK" } else { "OVER" };
    let _ = writeln!(
        o,
        "| quota status | {status}, headroom {:.2} req/s ({:.2} % used) |",
        k.headroom_rps, k.quota_used_pct
    );
    let _ = writeln!(
        o,
        "| requests alone at the full quota | {} |\n",
        duration(k.min_hours_at_quota * 3600.0)
    );

    let cost = &p.cost;
    let cur = &cost.currency;
    let _ = writeln!(
        o,
        "## Monthly KMS cost ({cur})\n\n| item | quantity | cost |\n|---|---|---:|"
    );
    let _ = writeln!(
        o,
        "| requests | {:.0} ({} run(s)/month), {} free, {:.0} billed at {} per 10,000 | {:.2} |",
        cost.requests_per_month,
        f.runs_per_month,
        cost.free_requests,
        cost.billable_requests,
        cost.price_per_10k,
        cost.request_cost
    );
    let _ = writeln!(
        o,
        "| keys | {} x {:.2} per key-month | {:.2} |",
        cost.kms_keys, cost.price_per_key_month, cost.key_cost
    );
    let _ = writeln!(o, "| **total** | | **{:.2}** |\n", cost.total);
    let _ = writeln!(
        o,
        "Pricing data: {} (as of {}).",
        p.pricing_source, p.pricing_as_of
    );
    if !p.notes.is_empty() {
        let _ = writeln!(o, "\nNotes:");
        for n in &p.notes {
            let _ = writeln!(o, "- {n}");
        }
    }
    o
}
