//! The distributor API (LATCOM-compatible, seed `002_…`), under `/api/distributor`:
//! `POST /login` (customer_id + secret_key -> JWT access + refresh tokens), `POST /refresh`,
//! `GET /get_balance`, `POST /product_purchase`. Same accounts, pricing, limits, atomic debit,
//! provider and refunds as the partner API; ISO-8583-style `response_code`s in the bodies.

use crate::api::http::{header, json_body, json_response, request_id, BadBody};
use crate::api::json::{money, timestamp};
use crate::domain::credentials::key_matches;
use crate::domain::{
    Account, CustomerId, MxnAmount, Phone, Reference, Transaction, TxStatus, MAX_TOPUP_MXN,
};
use crate::ports::AccountReader;
use crate::topup::{TopupError, TopupInput, TopupService};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::{Body, Error, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Access tokens live one hour (the guide's `expires_in: 3600`); refresh tokens 30 days.
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;

/// The distributor guide's products: Movistar airtime (any amount 10-5,000 MXN) and data
/// packages at a fixed price.
pub fn product_price(product_id: &str) -> Option<Option<u32>> {
    let fixed = match product_id {
        "MOVISTAR_TAE" => return Some(None),
        "MOVISTAR_PAQUETE_16" => 30,
        "MOVISTAR_PAQUETE_17" => 50,
        "MOVISTAR_PAQUETE_18" => 70,
        "MOVISTAR_PAQUETE_19" => 90,
        "MOVISTAR_PAQUETE_20" => 110,
        "MOVISTAR_PAQUETE_21" => 150,
        "MOVISTAR_PAQUETE_22" => 210,
        "MOVISTAR_PAQUETE_23" => 320,
        "MOVISTAR_PAQUETE_24" => 400,
        "MOVISTAR_PAQUETE_25" => 420,
        _ => return None,
    };
    Some(Some(fixed))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    typ: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks the distributor JWTs (HS256 with a secret from Secrets Manager).
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenIssuer {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the distributor JWT secret must be at least 32 bytes".into());
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        })
    }

    fn token(&self, customer: &CustomerId, typ: &str, ttl: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: customer.as_str().to_owned(),
            typ: typ.to_owned(),
            iat: now,
            exp: now + ttl,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    fn pair(&self, customer: &CustomerId) -> Value {
        json!({
            "success": true,
            "access_token": self.token(customer, "access", ACCESS_TTL_SECS),
            "refresh_token": self.token(customer, "refresh", REFRESH_TTL_SECS),
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL_SECS,
        })
    }

    /// The customer a valid, unexpired token of type `typ` was issued to.
    fn verify(&self, token: &str, typ: &str) -> Option<CustomerId> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == typ)
            .then(|| CustomerId::parse(&data.claims.sub).ok())
            .flatten()
    }
}

/// A refusal in the guide's shape: `{success:false, error, response_code, …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributorError {
    pub http: u16,
    pub code: &'static str,
    pub error: String,
    pub extra: Map<String, Value>,
}

impl DistributorError {
    fn new(http: u16, code: &'static str, error: impl Into<String>) -> Self {
        Self {
            http,
            code,
            error: error.into(),
            extra: Map::new(),
        }
    }
    fn unauthorized() -> Self {
        Self::new(401, "05", "Unauthorized: invalid or missing token")
    }
    fn body(&self, distributor_transaction_id: Option<&str>) -> Value {
        let mut body = json!({
            "success": false,
            "error": self.error,
            "response_code": self.code,
            "response_message": message(self.code),
        });
        if let Some(id) = distributor_transaction_id {
            body["distributor_transaction_id"] = json!(id);
        }
        for (k, v) in &self.extra {
            body[k] = v.clone();
        }
        body
    }
}

/// The guide's response codes (plus ISO-8583's 09, 61, 65 for states it does not list).
pub fn message(code: &str) -> &'static str {
    match code {
        "00" => "Aprobado",
        "05" => "No autorizado",
        "09" => "En proceso",
        "12" => "Transaccion invalida",
        "13" => "Monto invalido",
        "14" => "Paquete invalido",
        "51" => "Fondos insuficientes",
        "61" => "Excede limite de monto",
        "65" => "Excede limite de frecuencia",
        "83" => "DN invalido",
        "91" => "Emisor no disponible",
        _ => "Error de sistema",
    }
}

/// An unreadable body: 400 / 12.
fn from_body(err: BadBody) -> DistributorError {
    DistributorError::new(400, "12", err.0)
}

/// A refused top-up in the distributor vocabulary.
fn from_topup(err: TopupError) -> DistributorError {
    match err {
        TopupError::AccountUnavailable => DistributorError::unauthorized(),
        TopupError::InsufficientBalance {
            current_balance_usd,
            required_usd,
            ..
        } => {
            let mut e = DistributorError::new(402, "51", "Insufficient balance");
            e.extra.insert("balance".into(), money(current_balance_usd));
            e.extra.insert("required_usd".into(), money(required_usd));
            e
        }
        TopupError::DailyLimitExceeded { .. } => {
            DistributorError::new(429, "61", "Daily transaction limit exceeded")
        }
        TopupError::RateLimited { .. } => DistributorError::new(429, "65", "Too many requests"),
        TopupError::IdempotencyConflict { .. } => DistributorError::new(
            400,
            "12",
            "distributor_transaction_id was already used for a different purchase",
        ),
        TopupError::RateUnavailable | TopupError::Unavailable(_) => unavailable(),
    }
}

fn unavailable() -> DistributorError {
    DistributorError::new(503, "96", "System error: service temporarily unavailable")
}

fn respond(status: u16, body: Value, rid: &str) -> Result<Response<Body>, Error> {
    Ok(json_response(status, &body, rid))
}

fn refuse(
    err: &DistributorError,
    dist_id: Option<&str>,
    rid: &str,
) -> Result<Response<Body>, Error> {
    tracing::info!(status = err.http, code = err.code, error = %err.error, request_id = rid, "distributor request refused");
    respond(err.http, err.body(dist_id), rid)
}

/// 200 with the body, or the refusal in the guide's shape.
fn answer(result: Result<Value, DistributorError>, rid: &str) -> Result<Response<Body>, Error> {
    match result {
        Ok(body) => respond(200, body, rid),
        Err(e) => refuse(&e, None, rid),
    }
}

async fn account_for(
    accounts: &dyn AccountReader,
    customer: &CustomerId,
) -> Result<Account, DistributorError> {
    match accounts.get_account(customer).await {
        Ok(Some(a)) if a.active => Ok(a),
        Ok(_) => Err(DistributorError::unauthorized()),
        Err(e) => {
            tracing::error!(error = %e, "account read failed");
            Err(unavailable())
        }
    }
}

/// The account behind `Authorization: Bearer <access token>`.
async fn bearer(
    req: &Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Account, DistributorError> {
    let token = header(req, "authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(DistributorError::unauthorized)?;
    let customer = tokens
        .verify(token, "access")
        .ok_or_else(DistributorError::unauthorized)?;
    account_for(accounts, &customer).await
}

fn string_field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `POST /api/distributor/login`.
pub async fn login(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = async {
        let body = json_body(&req).map_err(from_body)?;
        let (Some(customer), Some(secret)) = (
            string_field(&body, "customer_id"),
            string_field(&body, "secret_key"),
        ) else {
            return Err(DistributorError::new(
                400,
                "12",
                "customer_id and secret_key are required",
            ));
        };
        let customer = CustomerId::parse(customer).map_err(|_| DistributorError::unauthorized())?;
        let account = account_for(accounts, &customer).await?;
        let hashes: Vec<String> = account.secret_key_hash.iter().cloned().collect();
        if !key_matches(secret, &hashes) {
            return Err(DistributorError::new(401, "05", "Invalid credentials"));
        }
        Ok(tokens.pair(&account.customer_id))
    }
    .await;
    answer(result, &rid)
}

/// `POST /api/distributor/refresh` with `{"refresh_token": ...}`: a new token pair.
pub async fn refresh(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = async {
        let body = json_body(&req).map_err(from_body)?;
        let token = string_field(&body, "refresh_token")
            .ok_or_else(|| DistributorError::new(400, "12", "refresh_token is required"))?;
        let customer = tokens
            .verify(token, "refresh")
            .ok_or_else(DistributorError::unauthorized)?;
        let account = account_for(accounts, &customer).await?;
        Ok(tokens.pair(&account.customer_id))
    }
    .await;
    answer(result, &rid)
}

/// `GET /api/distributor/get_balance`.
pub async fn get_balance(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let result = bearer(&req, accounts, tokens).await.map(|account| {
        json!({
            "success": true,
            "balance": money(account.balance),
            "currency": "USD",
            "last_updated": timestamp(account.updated_at.unwrap_or_else(chrono::Utc::now)),
        })
    });
    answer(result, &rid)
}

/// A validated purchase.
fn parse_purchase(body: &Map<String, Value>) -> Result<(String, TopupInput), DistributorError> {
    let dist_id = string_field(body, "distributor_transaction_id").ok_or_else(|| {
        DistributorError::new(400, "12", "distributor_transaction_id is required")
    })?;
    let reference = Reference::parse(dist_id).map_err(|e| {
        DistributorError::new(400, "12", format!("distributor_transaction_id: {e}"))
    })?;
    let phone = match body.get("phone_number") {
        Some(Value::String(s)) => {
            Phone::parse(s.trim()).map_err(|e| DistributorError::new(400, "83", e))?
        }
        _ => {
            return Err(DistributorError::new(
                400,
                "83",
                "phone_number must be a string of 10 digits",
            ))
        }
    };
    let product = string_field(body, "product_id")
        .ok_or_else(|| DistributorError::new(400, "14", "product_id is required"))?;
    let price = product_price(product)
        .ok_or_else(|| DistributorError::new(400, "14", format!("Unknown product_id {product}")))?;
    let amount = body
        .get("amount")
        .and_then(|v| {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
        })
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| DistributorError::new(400, "13", "amount must be a whole number of MXN"))?;
    match price {
        None if !(10..=MAX_TOPUP_MXN).contains(&amount) => {
            return Err(DistributorError::new(
                400,
                "13",
                format!("MOVISTAR_TAE amount must be 10 to {MAX_TOPUP_MXN} MXN"),
            ))
        }
        Some(fixed) if fixed != amount => {
            return Err(DistributorError::new(
                400,
                "14",
                format!("{product} costs {fixed} MXN, not {amount}"),
            ))
        }
        _ => {}
    }
    if let Some(op) = body.get("operator") {
        if !op.is_null() && !op.is_string() {
            return Err(DistributorError::new(
                400,
                "12",
                "operator must be a string",
            ));
        }
    }
    let amount =
        MxnAmount::any(amount).map_err(|_| DistributorError::new(400, "13", "Invalid amount"))?;
    Ok((
        dist_id.to_owned(),
        TopupInput {
            phone,
            amount,
            idempotency_key: Some(format!("DIST#{}", reference.as_str())),
            reference: Some(reference),
        },
    ))
}

/// The purchase answer for the record's state.
fn purchase_answer(tx: &Transaction, dist_id: &str) -> (u16, Value) {
    let id = tx.id.as_str();
    let auth_code: String = id
        .chars()
        .rev()
        .take(6)
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    match tx.status {
        TxStatus::Success => (
            200,
            json!({
                "success": true,
                "transaction_id": id,
                "distributor_transaction_id": dist_id,
                "response_code": "00",
                "response_message": message("00"),
                "reference": tx.operator_transaction_id,
                "auth_code": auth_code,
                "balance_after": money(tx.balance_after),
            }),
        ),
        TxStatus::Failed => {
            let mut e = DistributorError::new(
                500,
                "91",
                format!(
                    "Top-up failed: {}. No balance was deducted.",
                    tx.failure_reason
                        .as_deref()
                        .unwrap_or("the carrier rejected it")
                ),
            );
            e.extra.insert("transaction_id".into(), json!(id));
            (e.http, e.body(Some(dist_id)))
        }
        TxStatus::Pending | TxStatus::Processing => (
            202,
            json!({
                "success": true,
                "status": "PENDING",
                "transaction_id": id,
                "distributor_transaction_id": dist_id,
                "response_code": "09",
                "response_message": message("09"),
                "balance_after": money(tx.balance_after),
                "message": "The carrier has not confirmed yet. Repeat the same request (same distributor_transaction_id) for the final result; it is never charged twice.",
            }),
        ),
    }
}

/// `POST /api/distributor/product_purchase`.
pub async fn product_purchase(
    req: Request,
    accounts: &dyn AccountReader,
    tokens: &TokenIssuer,
    service: &TopupService,
) -> Result<Response<Body>, Error> {
    let rid = request_id(&req);
    let account = match bearer(&req, accounts, tokens).await {
        Ok(a) => a,
        Err(e) => return refuse(&e, None, &rid),
    };
    let body = match json_body(&req) {
        Ok(b) => b,
        Err(e) => return refuse(&from_body(e), None, &rid),
    };
    let raw_id = string_field(&body, "distributor_transaction_id").map(str::to_owned);
    let (dist_id, input) = match parse_purchase(&body) {
        Ok(v) => v,
        Err(e) => return refuse(&e, raw_id.as_deref(), &rid),
    };
    let tx = match service.topup_sync(&account, &input).await {
        Ok(done) => done.transaction,
        Err(e) => return refuse(&from_topup(e), Some(&dist_id), &rid),
    };
    let (status, body) = purchase_answer(&tx, &dist_id);
    respond(status, body, &rid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_types_do_not_mix() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let c = CustomerId::parse("SMARTBIZ_001").unwrap();
        let pair = issuer.pair(&c);
        let access = pair["access_token"].as_str().unwrap();
        let refresh = pair["refresh_token"].as_str().unwrap();
        assert_eq!(issuer.verify(access, "access"), Some(c.clone()));
        assert_eq!(issuer.verify(refresh, "refresh"), Some(c));
        assert_eq!(issuer.verify(access, "refresh"), None);
        assert_eq!(issuer.verify(refresh, "access"), None);
        assert_eq!(issuer.verify("not.a.token", "access"), None);
        let other = TokenIssuer::new(b"another-secret-another-secret-xx").unwrap();
        assert_eq!(other.verify(access, "access"), None);
        assert!(TokenIssuer::new(b"short").is_err());
        assert_eq!(pair["expires_in"], json!(3600));
        assert_eq!(pair["token_type"], json!("Bearer"));
    }

    #[test]
    fn products_follow_the_guide() {
        assert_eq!(product_price("MOVISTAR_TAE"), Some(None));
        assert_eq!(product_price("MOVISTAR_PAQUETE_16"), Some(Some(30)));
        assert_eq!(product_price("MOVISTAR_PAQUETE_25"), Some(Some(420)));
        assert_eq!(product_price("MOVISTAR_PAQUETE_26"), None);
    }

    #[test]
    fn purchase_validation_codes() {
        let ok = json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10, "operator": "MOVISTAR"});
        assert!(parse_purchase(ok.as_object().unwrap()).is_ok());
        let cases = [
            (
                json!({"phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 10}),
                "12",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "553768666", "product_id": "MOVISTAR_TAE", "amount": 10}),
                "83",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "NOPE", "amount": 10}),
                "14",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": 5001}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_TAE", "amount": "10"}),
                "13",
            ),
            (
                json!({"distributor_transaction_id": "D1", "phone_number": "5537686660", "product_id": "MOVISTAR_PAQUETE_20", "amount": 100}),
                "14",
            ),
        ];
        for (body, code) in cases {
            let err = parse_purchase(body.as_object().unwrap()).unwrap_err();
            assert_eq!(err.code, code, "{body}");
            assert_eq!(err.http, 400);
        }
    }
}
