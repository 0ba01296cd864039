//! What partners (and the dashboard after them) read about their own money: the transaction
//! listing, the statement (opening + every ledger line + closing) and the reconciliation CSV.
//! Views are built here; the handlers (`api::reports`) only authenticate, parse and answer.

pub mod csv;
pub mod export;
pub mod listing;
pub mod ports;
pub mod range;
pub mod statement;
