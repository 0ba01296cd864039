//! GET /api/transactions — wiring only; logic in `relier::api::reports::transactions`.
use lambda_http::{run, service_fn, Error};
use relier::api::reports as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let store = app.store.as_ref();
    run(service_fn(move |req| {
        handlers::transactions(req, store, store)
    }))
    .await
}
