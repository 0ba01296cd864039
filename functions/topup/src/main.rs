//! POST /api/enviadespensa/topup — wiring only; logic in `relier::api::partner::topup`.
use lambda_http::{run, service_fn, Error};
use relier::api::partner as handlers;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let (accounts, service) = (app.store.as_ref(), &service);
    run(service_fn(move |req| {
        handlers::topup(req, accounts, service)
    }))
    .await
}
