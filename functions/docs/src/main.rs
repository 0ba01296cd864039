//! GET /docs — the API reference page (vendored renderer of /openapi.json); see
//! `relier::api::edge::docs`.
use lambda_http::{run, service_fn, Error};
use relier::{api::edge::docs, telemetry};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    run(service_fn(docs::docs)).await
}
