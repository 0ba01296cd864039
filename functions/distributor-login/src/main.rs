//! POST /api/distributor/login — wiring only; logic in `relier::api::distributor::login`.
use lambda_http::{run, service_fn, Error};
use relier::api::distributor;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let tokens = app.token_issuer().await?;
    let (accounts, tokens) = (app.store.as_ref(), &tokens);
    run(service_fn(move |req| {
        distributor::login(req, accounts, tokens)
    }))
    .await
}
