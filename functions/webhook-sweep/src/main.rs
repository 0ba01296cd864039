//! Scheduled (every minute): re-enqueue due webhook deliveries — wiring only; logic in
//! `relier::webhooks::dispatch::Dispatcher::sweep`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::{app::App, telemetry};

/// Deliveries re-enqueued per run (a backlog drains over the next runs).
const BATCH: i32 = 500;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let dispatcher = app.webhook_dispatcher()?;
    let dispatcher = &dispatcher;
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            Ok::<_, Error>(dispatcher.sweep(BATCH).await?)
        },
    ))
    .await
}
