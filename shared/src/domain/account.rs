//! A partner account (the `ACCOUNT` item): balance, limits, hashed credentials.

use super::Commission;
use super::CustomerId;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A partner account (the `ACCOUNT` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub customer_id: CustomerId,
    pub company_name: String,
    /// Prepaid USD balance.
    pub balance: Decimal,
    /// The credit line agreed with the partner (shown by `/api/balance`).
    pub credit_limit: Decimal,
    /// How far below zero the balance may go (0 = strictly prepaid).
    pub overdraft_usd: Decimal,
    /// Balance before the first ledger entry (ledger check anchor).
    pub opening_balance: Decimal,
    pub commission: Commission,
    /// Per customer per UTC day, MXN. None = no limit.
    pub daily_limit_mxn: Option<Decimal>,
    /// Per end-user phone per customer per UTC day, MXN. None = no limit.
    pub daily_limit_per_phone_mxn: Option<Decimal>,
    /// Accepted top-ups per customer per minute (the guides' 200/minute). None = unlimited.
    pub max_topups_per_minute: Option<u32>,
    /// Requests per customer per fixed 15-minute window on the authenticated partner routes
    /// (the guides' "300 requests / 15 minutes"). None = the guides' default.
    pub max_requests_per_15min: Option<u32>,
    /// Source addresses allowed to call with this account's credentials (CIDR, e.g.
    /// `203.0.113.0/24`). Empty = any address.
    pub allowed_ips: Vec<String>,
    /// SHA-256 (hex) of each active API key (several during a rotation).
    pub api_key_hashes: Vec<String>,
    /// SHA-256 (hex) of the distributor secret key, if any.
    pub secret_key_hash: Option<String>,
    pub active: bool,
    /// Optimistic-concurrency version; also the ledger sequence number.
    pub version: u64,
    /// When the balance last changed (None: never since the account was created).
    pub updated_at: Option<DateTime<Utc>>,
    /// `balance.low` threshold (None: the default, 1,000 USD).
    pub low_balance_usd: Option<Decimal>,
    /// `balance.low` already sent for the current dip below the threshold (re-armed by a
    /// credit that brings the balance back to or above it).
    pub low_balance_alerted: bool,
}

/// The balance below which `balance.low` fires, unless the account sets its own (HAZ guide:
/// "automatic notifications at $1,000 USD threshold").
pub const DEFAULT_LOW_BALANCE_USD: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

impl Account {
    /// The `balance.low` threshold in force.
    pub fn low_balance_threshold(&self) -> Decimal {
        self.low_balance_usd.unwrap_or(DEFAULT_LOW_BALANCE_USD)
    }
}
