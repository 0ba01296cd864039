//! The dashboard's two languages. Spanish is the default (the partners are Mexican companies);
//! `?lang=en|es` switches and is remembered in a cookie.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
    pub fn other(self) -> Self {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    /// The text for `key` (English, Spanish); an unknown key shows itself (a test checks all keys).
    pub fn t(self, key: &str) -> &'static str {
        let Some((_, en, es)) = TEXTS.iter().find(|(k, _, _)| *k == key) else {
            return "?";
        };
        match self {
            Lang::En => en,
            Lang::Es => es,
        }
    }
}

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "Partner dashboard", "Panel de socios"),
    ("lang_name", "Español", "English"),
    ("skip", "Skip to content", "Saltar al contenido"),
    ("signin", "Sign in", "Iniciar sesión"),
    (
        "signin_intro",
        "Sign in with the API credentials we gave you.",
        "Inicie sesión con las credenciales de API que le entregamos.",
    ),
    ("api_key", "API key", "Clave de API"),
    ("customer_id", "Customer ID", "ID de cliente"),
    (
        "bad_credentials",
        "Those credentials are not valid.",
        "Esas credenciales no son válidas.",
    ),
    ("signout", "Sign out", "Cerrar sesión"),
    ("nav", "Main", "Principal"),
    ("overview", "Overview", "Resumen"),
    ("transactions", "Transactions", "Transacciones"),
    ("charts", "Charts", "Gráficas"),
    ("statement", "Statement", "Estado de cuenta"),
    ("balance", "Current balance", "Saldo actual"),
    ("credit_limit", "Credit limit", "Límite de crédito"),
    ("updated", "Updated", "Actualizado"),
    ("today_used", "MXN used today", "MXN usados hoy"),
    ("of_limit", "of daily limit", "del límite diario"),
    (
        "no_limit",
        "no customer-wide daily limit",
        "sin límite diario por cliente",
    ),
    (
        "per_phone",
        "Per-phone daily limit",
        "Límite diario por teléfono",
    ),
    (
        "low_threshold",
        "Low-balance alert below",
        "Alerta de saldo bajo por debajo de",
    ),
    ("not_set", "not set", "no configurado"),
    ("success_24h", "Success rate (24 h)", "Tasa de éxito (24 h)"),
    ("no_data", "no finished top-ups", "sin recargas terminadas"),
    ("finished", "finished", "terminadas"),
    ("filters", "Filters", "Filtros"),
    ("date_from", "From", "Desde"),
    ("date_to", "To", "Hasta"),
    ("status", "Status", "Estado"),
    ("any", "Any", "Cualquiera"),
    ("phone", "Phone", "Teléfono"),
    ("reference", "Reference", "Referencia"),
    ("per_page", "Per page", "Por página"),
    ("apply", "Apply", "Aplicar"),
    ("download_csv", "Download CSV", "Descargar CSV"),
    ("date", "Date", "Fecha"),
    ("amount_mxn", "Amount MXN", "Monto MXN"),
    ("amount_usd", "Amount USD", "Monto USD"),
    ("id", "Transaction", "Transacción"),
    ("next_page", "Next page", "Página siguiente"),
    ("first_page", "First page", "Primera página"),
    (
        "none",
        "No transactions match.",
        "Ninguna transacción coincide.",
    ),
    ("detail", "Transaction detail", "Detalle de la transacción"),
    (
        "not_found",
        "Transaction not found.",
        "Transacción no encontrada.",
    ),
    ("back", "Back to transactions", "Volver a transacciones"),
    (
        "exchange_rate",
        "Exchange rate (MXN per USD)",
        "Tipo de cambio (MXN por USD)",
    ),
    (
        "balance_before",
        "Balance before (USD)",
        "Saldo antes (USD)",
    ),
    (
        "balance_after",
        "Balance after (USD)",
        "Saldo después (USD)",
    ),
    (
        "operator_id",
        "Operator transaction id",
        "Id de transacción del operador",
    ),
    ("provider", "Provider", "Proveedor"),
    (
        "response_ms",
        "Response time (ms)",
        "Tiempo de respuesta (ms)",
    ),
    ("created", "Created", "Creada"),
    ("processed", "Processed", "Procesada"),
    ("error", "Error", "Error"),
    (
        "volume_mxn",
        "Daily volume, MXN (successful top-ups)",
        "Volumen diario, MXN (recargas exitosas)",
    ),
    ("volume_usd", "Daily volume, USD", "Volumen diario, USD"),
    (
        "outcomes",
        "Successful and failed top-ups per day",
        "Recargas exitosas y fallidas por día",
    ),
    (
        "latency",
        "Response time per day, p50 and p95",
        "Tiempo de respuesta por día, p50 y p95",
    ),
    ("legend_ok", "successful", "exitosas"),
    ("legend_ko", "failed", "fallidas"),
    ("last_30", "Last 30 days (UTC)", "Últimos 30 días (UTC)"),
    (
        "truncated",
        "Only the most recent transactions are counted.",
        "Sólo se cuentan las transacciones más recientes.",
    ),
    ("opening", "Opening balance", "Saldo inicial"),
    ("closing", "Closing balance", "Saldo final"),
    ("debits", "Debits", "Cargos"),
    ("credits", "Credits", "Abonos"),
    ("kind", "Kind", "Tipo"),
    ("show", "Show", "Mostrar"),
    (
        "no_lines",
        "No movements in this period.",
        "Sin movimientos en este periodo.",
    ),
    ("webhooks", "Webhooks", "Webhooks"),
    ("wh_endpoint", "Endpoint", "Endpoint"),
    (
        "wh_none",
        "No webhook endpoint is configured. Ask your account manager (Relier operations) to set one up.",
        "No hay un endpoint de webhooks configurado. Pida a su ejecutivo de cuenta (operaciones de Relier) que lo configure.",
    ),
    ("wh_url", "URL", "URL"),
    ("wh_events", "Events", "Eventos"),
    ("wh_all_events", "all", "todos"),
    ("wh_state", "State", "Estado"),
    ("wh_enabled", "enabled", "activo"),
    ("wh_disabled", "disabled", "desactivado"),
    ("wh_secret", "Signing secret", "Secreto de firma"),
    (
        "wh_secret_note",
        "set; it was shown once to Relier operations and is never shown here. Ask operations to rotate it.",
        "configurado; se mostró una sola vez a operaciones de Relier y nunca se muestra aquí. Pida a operaciones que lo rote.",
    ),
    (
        "wh_ops_note",
        "Endpoint, events and threshold are changed by Relier operations.",
        "Operaciones de Relier cambia el endpoint, los eventos y el umbral.",
    ),
    (
        "wh_low_alert",
        "balance.low is sent when the balance falls below",
        "balance.low se envía cuando el saldo baja de",
    ),
    ("wh_default", "default", "predeterminado"),
    ("wh_deliveries", "Latest deliveries", "Últimos envíos"),
    (
        "wh_deliveries_note",
        "Newest first, up to 50, kept 35 days. SKIPPED: no endpoint, endpoint disabled or event not subscribed.",
        "Los más recientes primero, hasta 50, se guardan 35 días. SKIPPED: sin endpoint, endpoint desactivado o evento no suscrito.",
    ),
    ("wh_event_id", "Event (webhook-id)", "Evento (webhook-id)"),
    ("wh_type", "Type", "Tipo"),
    ("wh_attempts", "Attempts", "Intentos"),
    ("wh_last_result", "Last result", "Último resultado"),
    ("wh_next_attempt", "Next attempt", "Próximo intento"),
    (
        "wh_no_deliveries",
        "No webhook events yet.",
        "Todavía no hay eventos de webhook.",
    ),
    (
        "bad_request",
        "Please check the filters",
        "Revise los filtros",
    ),
    (
        "unavailable",
        "The service is busy; please try again.",
        "El servicio está ocupado; intente de nuevo.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_both_languages() {
        // GIVEN the text table THEN no key repeats and no translation is empty
        for (i, (k, en, es)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !es.is_empty(), "{k}");
            assert!(
                TEXTS[i + 1..].iter().all(|(o, _, _)| o != k),
                "duplicate {k}"
            );
        }
        assert_eq!(Lang::Es.t("signin"), "Iniciar sesión");
        assert_eq!(Lang::En.t("signin"), "Sign in");
        assert_eq!(Lang::parse("fr"), None);
    }
}
