//! Reaching vaults: the worker that owns the `SecretClient`s, the credential chain, discovery, vault
//! sources, typed errors and the HTTP transport.

pub mod certificate;
pub mod credential;
pub mod discovery;
pub mod error;
pub mod machine;
pub mod page;
pub mod secret;
pub mod sources;
pub mod tags;
pub mod transport;
pub mod worker;

pub use error::{ErrorKind, VaultError};
pub use secret::{DeletedProps, NewSecret, PropertiesPatch, SecretProps, SecretValue};
pub use tags::Tags;
pub use worker::{
    Envelope, Phase, PollConfig, Progress, Request, RequestId, Response, Worker, WorkerConfig,
};
