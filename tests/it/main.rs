//! Integration tests: one binary (see DESIGN.md §10).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
