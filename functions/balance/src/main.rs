//! GET /api/balance — wiring only; logic in `relier::edge::routes::balance` (gate: credentials,
//! IP allowlist, 15-minute window) and `relier::handlers::balance`.
use lambda_http::{run, service_fn, Error};
use relier::edge::{gate::Gate, routes};
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
    run(service_fn(move |req| routes::balance(req, gate))).await
}
