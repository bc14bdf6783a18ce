//! The AWS KMS JSON protocol: wire types shared by the client and the local server, and the
//! local server itself (`volcrypt kms serve`).
//!
//! `wire` is pure data (serde types, error names and their HTTP statuses). `server` may use
//! `crypto` and `wire`, never `keys` or `engine`: the server must not depend on the client.

pub mod server;
pub mod wire;
