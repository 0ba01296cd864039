//! GET /api/transaction/{id} — wiring only; logic in `relier::api::edge::routes::transaction_status`
//! (gate, when credentials are sent) and `relier::api::partner::transaction_status`.
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
    run(service_fn(move |req| {
        routes::transaction_status(req, gate, store)
    }))
    .await
}
