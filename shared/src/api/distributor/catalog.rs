//! The distributor guide's products: Movistar airtime (any amount 10-5,000 MXN) and data
//! packages at a fixed price.

/// A product the distributor API sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// `MOVISTAR_TAE`: airtime, any whole amount from 10 to 5,000 MXN.
    MovistarTae,
    /// `MOVISTAR_PAQUETE_16` .. `MOVISTAR_PAQUETE_25`: a data package at its fixed MXN price.
    MovistarPackage(u8),
}

impl Product {
    pub fn parse(product_id: &str) -> Option<Self> {
        if product_id == "MOVISTAR_TAE" {
            return Some(Self::MovistarTae);
        }
        let n: u8 = product_id.strip_prefix("MOVISTAR_PAQUETE_")?.parse().ok()?;
        let product = Self::MovistarPackage(n);
        (product.fixed_price().is_some() && product_id == format!("MOVISTAR_PAQUETE_{n}"))
            .then_some(product)
    }

    /// The fixed price in MXN, or None for airtime (the buyer picks the amount).
    pub fn fixed_price(self) -> Option<u32> {
        match self {
            Self::MovistarTae => None,
            Self::MovistarPackage(n) => match n {
                16 => Some(30),
                17 => Some(50),
                18 => Some(70),
                19 => Some(90),
                20 => Some(110),
                21 => Some(150),
                22 => Some(210),
                23 => Some(320),
                24 => Some(400),
                25 => Some(420),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_follow_the_guide() {
        assert_eq!(Product::parse("MOVISTAR_TAE"), Some(Product::MovistarTae));
        assert_eq!(Product::MovistarTae.fixed_price(), None);
        let p16 = Product::parse("MOVISTAR_PAQUETE_16").unwrap();
        assert_eq!(p16.fixed_price(), Some(30));
        let p25 = Product::parse("MOVISTAR_PAQUETE_25").unwrap();
        assert_eq!(p25.fixed_price(), Some(420));
        assert_eq!(Product::parse("MOVISTAR_PAQUETE_26"), None);
        assert_eq!(Product::parse("MOVISTAR_PAQUETE_016"), None);
        assert_eq!(Product::parse("NOPE"), None);
    }
}
