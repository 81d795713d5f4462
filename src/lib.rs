//! kvtui: a terminal UI for Azure Key Vault secrets, and the local Key Vault-compatible server it
//! carries for offline use, demos and tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod cache;
pub mod clipboard;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod editor;
pub mod emulator;
pub mod hygiene;
pub mod logging;
pub mod paths;
pub mod tmux;
pub mod tui;
pub mod ui;
pub mod vault;
