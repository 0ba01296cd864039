//! POST /api/enviadespensa/topup-async — wiring only; logic in `relier::api::partner::topup_async`.
use lambda_http::{run, service_fn, Error};
use relier::api::partner as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let queue = app.queue()?;
    let (accounts, service, queue) = (app.store.as_ref(), &service, &queue);
    run(service_fn(move |req| {
        handlers::topup_async(req, accounts, service, queue)
    }))
    .await
}
