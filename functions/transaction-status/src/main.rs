//! GET /api/transaction/{id} — wiring only; logic in `relier::api::partner::transaction_status`.
use lambda_http::{run, service_fn, Error};
use relier::api::partner as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let store = app.store.as_ref();
    run(service_fn(move |req| {
        handlers::transaction_status(req, store, store)
    }))
    .await
}
