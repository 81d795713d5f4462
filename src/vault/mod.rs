//! Reaching vaults: the HTTP transport and credentials the real `SecretClient` is built with.
//! (The worker that owns the clients and reports progress builds on this.)

pub mod transport;
