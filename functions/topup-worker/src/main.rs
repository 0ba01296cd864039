//! SQS consumer of the top-up queue — wiring only; logic in `relier::jobs::worker`.
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::jobs::worker;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let service = app.topup_service().await?;
    let (work, service) = (app.store.as_ref(), &service);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(worker::handle_batch(event.payload, work, service).await)
    }))
    .await
}
