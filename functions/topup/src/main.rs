//! POST /api/enviadespensa/topup — wiring only; logic in `relier::api::edge::routes::topup` (gate)
//! and `relier::api::partner::topup`.
use lambda_http::{run, service_fn, Error};
use relier::api::edge::{gate::Gate, routes};
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let store = app.store.as_ref();
    let gate = Gate {
        accounts: store,
        windows: store,
        clock: app.clock.as_ref(),
    };
    let service = &service;
    run(service_fn(move |req| routes::topup(req, gate, service))).await
}
