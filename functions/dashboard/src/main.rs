//! The partner dashboard: GET/POST /dashboard…, GET /api/dashboard/… — wiring only; logic in
//! `relier::dashboard`.
use lambda_http::{run, service_fn, Error};
use relier::api::dashboard::Dashboard;
use relier::config::Mode;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let dashboard = Dashboard {
        accounts: app.store.clone(),
        transactions: app.store.clone(),
        reports: app.store.clone(),
        reads: app.store.clone(),
        webhooks: app.store.clone(),
        sessions: app.store.clone(),
        clock: app.clock.clone(),
        secure: app.config.mode != Mode::Sandbox,
    };
    let dashboard = &dashboard;
    run(service_fn(move |req| dashboard.handle(req))).await
}
