//! POST /api/distributor/product_purchase — wiring only; logic in
//! `relier::api::distributor::product_purchase`.
use lambda_http::{run, service_fn, Error};
use relier::api::distributor;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let tokens = app.token_issuer().await?;
    let service = app.topup_service().await?;
    let (accounts, tokens, service) = (app.store.as_ref(), &tokens, &service);
    run(service_fn(move |req| {
        distributor::product_purchase(req, accounts, tokens, service)
    }))
    .await
}
