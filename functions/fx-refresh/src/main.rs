//! Scheduled MXN/USD rate refresh — wiring only; logic in `relier::jobs::fx_refresh`.
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use relier::jobs::fx_refresh;
use relier::{app::App, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let app = App::from_env().await?;
    let feed = app.fx_feed().await?;
    let spread = app.fx_spread()?;
    let (feed, store, clock) = (feed.as_ref(), app.store.as_ref(), app.clock.as_ref());
    run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let record = fx_refresh::refresh(feed, store, clock, spread).await?;
            Ok::<_, Error>(
                serde_json::json!({ "rate": record.rate.to_string(), "source": record.source }),
            )
        },
    ))
    .await
}
