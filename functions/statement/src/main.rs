//! GET /api/statement — wiring only; logic in `relier::reports::handlers::statement`.
use lambda_http::{run, service_fn, Error};
use relier::{app::App, reports::handlers, telemetry};

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
