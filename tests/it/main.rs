//! Integration tests: one binary (see DESIGN.md §10).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod bench_run;
mod blockdev;
mod blockdev_busy;
mod blockdev_default;
mod blockdev_tail;
mod cli;
mod daemon;
mod engines;
mod envelope;
mod journal;
mod kill;
mod kms_cache;
mod kms_client;
mod kms_errors;
mod kms_moto;
mod kms_provider;
mod kms_sdk;
mod kms_server;
mod nospace;
mod raw;
mod report_plan;
mod roundtrip;
mod tamper;
mod util;
