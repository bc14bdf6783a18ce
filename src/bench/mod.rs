//! Load generators behind `volcrypt bench ...`, and their reports.
//!
//! | module | owns |
//! |---|---|
//! | [`kms`] | the KMS load generator: N keep-alive HTTP/1.1 connections sending SigV4-signed GenerateDataKey / Decrypt back to back |
//! | [`report`] | latency statistics at fio's percentiles, fio-shaped text, `.hgrm` distributions |
//! | [`model`] | the results of a `volcrypt bench run`: cases, repetitions, stage latencies, time series |
//!
//! It may use `crypto`, `kms` (the SigV4 signer, the in-process server), and `engine`, `io`,
//! `keys` and `format` to drive volumes; it never prints (the CLI does).

pub mod cipher;
pub mod compare;
pub mod error;
pub mod kms;
pub mod model;
pub mod output;
pub mod plan;
pub mod report;
pub mod runner;
pub mod spec;
