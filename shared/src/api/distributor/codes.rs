//! The guide's response codes (plus ISO-8583's 09, 61, 65 for states it does not list).

/// `response_code` / `response_message` of every distributor answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    /// 00 Aprobado.
    Approved,
    /// 05 No autorizado.
    Unauthorized,
    /// 09 En proceso (the carrier has not confirmed yet).
    InProcess,
    /// 12 Transaccion invalida.
    InvalidTransaction,
    /// 13 Monto invalido.
    InvalidAmount,
    /// 14 Paquete invalido.
    InvalidPackage,
    /// 51 Fondos insuficientes.
    InsufficientFunds,
    /// 61 Excede limite de monto (daily limit).
    AmountLimit,
    /// 65 Excede limite de frecuencia (per-minute limit).
    FrequencyLimit,
    /// 83 DN invalido (phone number).
    InvalidPhone,
    /// 91 Emisor no disponible (the carrier failed the top-up).
    IssuerUnavailable,
    /// 96 Error de sistema.
    SystemError,
}

impl ResponseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "00",
            Self::Unauthorized => "05",
            Self::InProcess => "09",
            Self::InvalidTransaction => "12",
            Self::InvalidAmount => "13",
            Self::InvalidPackage => "14",
            Self::InsufficientFunds => "51",
            Self::AmountLimit => "61",
            Self::FrequencyLimit => "65",
            Self::InvalidPhone => "83",
            Self::IssuerUnavailable => "91",
            Self::SystemError => "96",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Approved => "Aprobado",
            Self::Unauthorized => "No autorizado",
            Self::InProcess => "En proceso",
            Self::InvalidTransaction => "Transaccion invalida",
            Self::InvalidAmount => "Monto invalido",
            Self::InvalidPackage => "Paquete invalido",
            Self::InsufficientFunds => "Fondos insuficientes",
            Self::AmountLimit => "Excede limite de monto",
            Self::FrequencyLimit => "Excede limite de frecuencia",
            Self::InvalidPhone => "DN invalido",
            Self::IssuerUnavailable => "Emisor no disponible",
            Self::SystemError => "Error de sistema",
        }
    }
}
