//! Money: MXN amounts, USD amounts, exchange rates, commissions and the one pricing rule.
//! Exact decimals only; rounding is explicit.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The fixed MXN denominations partners may buy (seed 000, "Available Amounts").
pub const ALLOWED_AMOUNTS_MXN: [u32; 14] =
    [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 150, 200, 300, 500];
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

/// An exchange-rate record (MXN per USD) as stored by `fx-refresh`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRecord {
    pub rate: Decimal,
    pub updated_at: DateTime<Utc>,
    pub source: String,
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
    fn amounts_are_the_fixed_denominations() {
        for a in ALLOWED_AMOUNTS_MXN {
            assert!(MxnAmount::parse(a).is_ok());
        }
        for a in [0, 5, 15, 25, 501, 1000, 250] {
            assert_eq!(MxnAmount::parse(a), Err(a));
        }
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

    }
}
