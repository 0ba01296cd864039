//! Scheduled MXN/USD rate refresh — wiring only; logic in `relier::fx`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::{app::App, fx, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let feed = fx::feed_from_env(&app.config).await?;
    let spread = fx::spread_from_env()?;
    let (feed, store, clock) = (feed.as_ref(), app.store.as_ref(), app.clock.as_ref());
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let record = fx::refresh(feed, store, clock, spread).await?;
            Ok::<_, Error>(
                serde_json::json!({ "rate": record.rate.to_string(), "source": record.source }),
            )
        },
    ))
    .await
}
