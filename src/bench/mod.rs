//! Load generators behind `volcrypt bench ...`, and their reports.
//!
//! | module | owns |
//! |---|---|
//! | [`kms`] | the KMS load generator: N keep-alive HTTP/1.1 connections sending SigV4-signed GenerateDataKey / Decrypt back to back |
//! | [`report`] | latency statistics at fio's percentiles, fio-shaped text, `.hgrm` distributions |
//!
//! It may use `crypto` and `kms` (for the SigV4 signer), nothing else; it never prints (the
//! CLI does).

pub mod kms;
pub mod report;
