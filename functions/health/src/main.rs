//! GET /health — wiring only; logic in `relier::api::health::health`.
use lambda_http::{run, service_fn, Error};
use relier::api::health::health;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |req| {
        health(req, app.config.mode, app.started, app)
    }))
    .await
}
