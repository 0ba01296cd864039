//! GET /api/statement — wiring only; logic in `relier::api::reports::statement`.
use lambda_http::{run, service_fn, Error};
use relier::api::reports as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let store = app.store.as_ref();
    run(service_fn(move |req| {
        handlers::statement(req, store, store)
    }))
    .await
}
