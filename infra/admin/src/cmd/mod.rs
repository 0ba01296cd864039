//! Command groups of relier-admin.
pub mod webhook;
