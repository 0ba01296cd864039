//! GET /api/balance — wiring only; logic in `relier::api::partner::balance`.
use lambda_http::{run, service_fn, Error};
use relier::api::partner as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let accounts = app.store.as_ref();
    run(service_fn(move |req| handlers::balance(req, accounts))).await
}
