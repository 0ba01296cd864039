//! Scheduled reconciler — wiring only; logic in `relier::jobs::reconciler`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::jobs::{fx_refresh, reconciler::Budget};
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let queue = app.queue()?;
    let reconciler = app.reconciler(&service, &queue)?;
    let (reconciler, app) = (&reconciler, &app);
    run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            // The run stops starting work before the invocation's own deadline.
            let budget = Budget::from_lambda_deadline(event.context.deadline);
            let report = reconciler.run_within(budget).await;
            fx_refresh::report_rate_age(app.store.as_ref(), app.clock.now()).await;
            Ok::<_, Error>(report?)
        },
    ))
    .await
}
