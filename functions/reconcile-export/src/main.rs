//! GET /api/admin/reconcile/export — wiring only; logic in `relier::api::reports::reconcile_export`.
use lambda_http::{run, service_fn, Error};
use relier::api::reports as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let store = app.store.as_ref();
    run(service_fn(move |req| {
        handlers::reconcile_export(req, store, store)
    }))
    .await
}
