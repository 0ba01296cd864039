//! Scheduled reconciler — wiring only; logic in `relier::reconciler`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::{app::App, reconciler::Reconciler, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let queue = app.queue()?;
    let reconciler = Reconciler::from_app(&app, &service, &queue)?;
    let reconciler = &reconciler;
    run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(reconciler.run().await?)
    }))
    .await
}
