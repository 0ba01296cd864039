//! POST /api/distributor/refresh — wiring only; logic in `relier::api::distributor::refresh`.
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
        distributor::refresh(req, accounts, tokens)
    }))
    .await
}
