//! Daily limits (per customer, per end-user phone) the debit must respect.

use rust_decimal::Decimal;

/// Which daily limit a refusal refers to (`limit_scope` in the 429 body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Customer,
    Phone,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Customer => "customer",
            LimitScope::Phone => "phone",
        }
    }
}

/// A daily limit the debit must respect.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitCheck {
    pub scope: LimitScope,
    pub limit_mxn: Decimal,
}
