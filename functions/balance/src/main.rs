//! GET /api/balance — wiring only; logic in `relier::handlers::balance`.
use lambda_http::{run, service_fn, Error};
use relier::{app::App, handlers, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let accounts = app.store.as_ref();
    run(service_fn(move |req| handlers::balance(req, accounts))).await
}
