//! Scheduled reconciler — wiring only; logic in `relier::jobs::reconciler`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let queue = app.queue()?;
    let reconciler = app.reconciler(&service, &queue)?;
    let reconciler = &reconciler;
    run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(reconciler.run().await?)
    }))
    .await
}
