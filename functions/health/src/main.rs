//! GET /health — wiring only; logic in `relier::handlers::health`.
use lambda_http::{run, service_fn, Error};
use relier::{app::App, handlers, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let app = &app;
    run(service_fn(move |req| {
        handlers::health(req, app.config.mode, app.started, app)
    }))
    .await
}
