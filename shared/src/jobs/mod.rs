//! Background use cases: the SQS worker, the reconciler, the hourly rate refresh and the
//! ledger check. They take ports only; `app.rs` wires them (never imported from here).

pub mod batch;
pub mod fx_refresh;
pub mod ledger_check;
pub mod reconciler;
pub mod worker;
