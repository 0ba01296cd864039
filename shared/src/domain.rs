//! Domain newtypes: every value that crosses the API boundary is parsed once, here.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The fixed MXN denominations partners may buy (seed 000, "Available Amounts").
pub const ALLOWED_AMOUNTS_MXN: [u32; 14] =
    [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200, 300, 500];

/// A 10-digit Mexican phone number, no country code (e.g. `5566374683`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    /// Exactly 10 ASCII digits; Mexican numbers never start with 0 or 1.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() != 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("phone must be exactly 10 digits with no spaces or country code".into());
        }
        if raw.starts_with('0') || raw.starts_with('1') {
            return Err("phone is not a valid Mexican number (cannot start with 0 or 1)".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Largest single top-up in MXN (the distributor guide's MOVISTAR_TAE maximum).
pub const MAX_TOPUP_MXN: u32 = 5_000;

/// A whole-peso MXN top-up amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MxnAmount(u32);

impl MxnAmount {
    /// One of the partner API's fixed denominations (`ALLOWED_AMOUNTS_MXN`).
    pub fn parse(value: u32) -> Result<Self, u32> {
        if ALLOWED_AMOUNTS_MXN.contains(&value) {
            Ok(Self(value))
        } else {
            Err(value)
        }
    }
    /// Any whole amount from 1 to [`MAX_TOPUP_MXN`] (distributor products, stored records).
    pub fn any(value: u32) -> Result<Self, u32> {
        if (1..=MAX_TOPUP_MXN).contains(&value) {
            Ok(Self(value))
        } else {
            Err(value)
        }
    }
    pub fn value(self) -> u32 {
        self.0
    }
    pub fn as_decimal(self) -> Decimal {
        Decimal::from(self.0)
    }
}

/// A USD amount in cents precision (always rounded by [`price_usd`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UsdAmount(Decimal);

impl UsdAmount {
    pub fn new(value: Decimal) -> Self {
        Self(value)
    }
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// An exchange rate in MXN per 1 USD (e.g. 18.52), strictly positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate(Decimal);

impl FxRate {
    pub fn parse(value: Decimal) -> Result<Self, String> {
        if value <= Decimal::ZERO {
            return Err(format!("exchange rate must be positive, got {value}"));
        }
        Ok(Self(value))
    }
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// A partner commission, as a fraction in [0, 1) (0.05 = 5% discount).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission(Decimal);

impl Commission {
    pub const ZERO: Commission = Commission(Decimal::ZERO);
    pub fn parse(value: Decimal) -> Result<Self, String> {
        if value < Decimal::ZERO || value >= Decimal::ONE {
            return Err(format!("commission must be in [0, 1), got {value}"));
        }
        Ok(Self(value))
    }
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// The one pricing rule: `usd = mxn / rate * (1 - commission)`, computed exactly in decimal
/// and rounded ONCE to cents, half away from zero (20 MXN @ 18.52 = 1.0799.. -> 1.08;
/// 50 MXN @ 17.0068 = 2.93999.. -> 2.94).
pub fn price_usd(amount: MxnAmount, rate: FxRate, commission: Commission) -> UsdAmount {
    let gross = amount.as_decimal() / rate.value();
    let net = gross * (Decimal::ONE - commission.value());
    UsdAmount(round_cents(net))
}

/// Round to cents, half away from zero.
pub fn round_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Partner account identifier (`HAZ_001`): 1-64 chars of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("invalid customer id".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A partner's own order reference / idempotency key: 1-128 printable ASCII chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference(String);

impl Reference {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 128 {
            return Err("reference must be 1 to 128 characters".into());
        }
        if !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err("reference must be printable ASCII".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Our public transaction id: `RLR` + 26 base32 chars = 130 random bits. Unguessable, because
/// `GET /api/transaction/{id}` is unauthenticated per the seeds and the id is the only secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TransactionId(String);

const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
const ID_RANDOM_CHARS: usize = 26;

impl TransactionId {
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::rng();
        let mut s = String::with_capacity(3 + ID_RANDOM_CHARS);
        s.push_str("RLR");
        for _ in 0..ID_RANDOM_CHARS {
            s.push(ID_ALPHABET[rng.random_range(0..32)] as char);
        }
        Self(s)
    }
    /// Accepts any id we could have issued (also older/other formats up to 64 safe chars),
    /// so lookups never 500 on odd input.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = raw.len() >= 4
            && raw.len() <= 64
            && raw.starts_with("RLR")
            && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("invalid transaction id".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lifecycle of a top-up: PENDING (debited, not yet sent) -> PROCESSING (claimed, sent or being
/// sent upstream) -> SUCCESS | FAILED (refunded). Partners see PROCESSING as PENDING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TxStatus {
    Pending,
    Processing,
    Success,
    Failed,
}

impl TxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Pending => "PENDING",
            TxStatus::Processing => "PROCESSING",
            TxStatus::Success => "SUCCESS",
            TxStatus::Failed => "FAILED",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "PENDING" => Some(Self::Pending),
            "PROCESSING" => Some(Self::Processing),
            "SUCCESS" => Some(Self::Success),
            "FAILED" => Some(Self::Failed),
            _ => None,
        }
    }
    /// What partners see: the seeds know PENDING, SUCCESS and FAILED only.
    pub fn public(self) -> &'static str {
        match self {
            TxStatus::Pending | TxStatus::Processing => "PENDING",
            other => other.as_str(),
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, TxStatus::Success | TxStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn seed_examples_price_exactly() {
        let twenty = MxnAmount::parse(20).unwrap();
        let fifty = MxnAmount::parse(50).unwrap();
        let r1 = FxRate::parse(dec!(18.52)).unwrap();
        let r2 = FxRate::parse(dec!(17.0068)).unwrap();
        assert_eq!(price_usd(twenty, r1, Commission::ZERO).value(), dec!(1.08));
        assert_eq!(price_usd(fifty, r2, Commission::ZERO).value(), dec!(2.94));
        // The appendix table of seed 000 at 18.52.
        let r = r1;
        for (mxn, usd) in [
            (10, dec!(0.54)),
            (100, dec!(5.40)),
            (200, dec!(10.80)),
            (500, dec!(27.00)),
        ] {
            assert_eq!(
                price_usd(MxnAmount::parse(mxn).unwrap(), r, Commission::ZERO).value(),
                usd
            );
        }
    }

    #[test]
    fn commission_is_a_discount_rounded_once() {
        let amount = MxnAmount::parse(100).unwrap();
        let rate = FxRate::parse(dec!(18.52)).unwrap();
        // 100 / 18.52 = 5.399568..; * 0.95 = 5.12958.. -> 5.13
        let c = Commission::parse(dec!(0.05)).unwrap();
        assert_eq!(price_usd(amount, rate, c).value(), dec!(5.13));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_cents(dec!(1.005)), dec!(1.01));
        assert_eq!(round_cents(dec!(1.0049)), dec!(1.00));
        assert_eq!(round_cents(dec!(2.675)), dec!(2.68));
    }

    #[test]
    fn phone_validation() {
        assert!(Phone::parse("5566374683").is_ok());
        assert!(Phone::parse("556637468").is_err());
        assert!(Phone::parse("55663746833").is_err());
        assert!(Phone::parse("+525566374").is_err());
        assert!(Phone::parse("0566374683").is_err());
        assert!(Phone::parse("1566374683").is_err());
        assert!(Phone::parse("55 6637468").is_err());
        assert!(Phone::parse("５５６６３７４６８３").is_err());
    }

    #[test]
    fn amounts_are_the_fixed_denominations() {
        for a in ALLOWED_AMOUNTS_MXN {
            assert!(MxnAmount::parse(a).is_ok());
        }
        for a in [0, 5, 15, 25, 501, 1000, 250] {
            assert_eq!(MxnAmount::parse(a), Err(a));
        }
    }

    #[test]
    fn transaction_ids_are_long_random_and_parse_back() {
        let a = TransactionId::generate();
        let b = TransactionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 29);
        assert!(a.as_str().starts_with("RLR"));
        assert_eq!(TransactionId::parse(a.as_str()).unwrap(), a);
        assert!(TransactionId::parse("RLR../../etc").is_err());
        assert!(TransactionId::parse("XYZ123").is_err());
    }

    #[test]
    fn partner_sees_processing_as_pending() {
        assert_eq!(TxStatus::Processing.public(), "PENDING");
        assert_eq!(TxStatus::Success.public(), "SUCCESS");
    }

    proptest! {
        #[test]
        fn price_has_two_decimals_and_is_within_half_a_cent(
            idx in 0usize..ALLOWED_AMOUNTS_MXN.len(),
            rate_milli in 10_000i64..30_000,
            commission_bp in 0i64..2_000,
        ) {
            let amount = MxnAmount::parse(ALLOWED_AMOUNTS_MXN[idx]).unwrap();
            let rate = FxRate::parse(Decimal::new(rate_milli, 3)).unwrap();
            let c = Commission::parse(Decimal::new(commission_bp, 4)).unwrap();
            let usd = price_usd(amount, rate, c).value();
            prop_assert!(usd.scale() <= 2);
            let exact = amount.as_decimal() / rate.value() * (Decimal::ONE - c.value());
            prop_assert!((usd - exact).abs() <= dec!(0.005));
            prop_assert!(usd > Decimal::ZERO);
        }

        #[test]
        fn phone_parse_accepts_only_ten_digit_mx_numbers(s in "\\PC{0,14}") {
            if let Ok(p) = Phone::parse(&s) {
                prop_assert_eq!(p.as_str().len(), 10);
                prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!p.as_str().starts_with('0') && !p.as_str().starts_with('1'));
            }
        }
    }
}
