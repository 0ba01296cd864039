//! GET /api/statement — wiring only; logic in `relier::api::edge::routes::statement` (gate: credentials,
//! IP allowlist, 15-minute window) and `relier::api::reports::statement`.
use lambda_http::{run, service_fn, Error};
use relier::api::edge::{gate::Gate, routes};
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let store = app.store.as_ref();
    let gate = Gate {
        accounts: store,
        windows: store,
        clock: app.clock.as_ref(),
    };
    run(service_fn(move |req| routes::statement(req, gate, store))).await
}
