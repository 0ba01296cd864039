//! JSON logs via tracing. Nothing here ever logs a header value, a key or a secret.

/// Install the JSON subscriber once per cold start (`RUST_LOG` filters, default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}

/// Emit a CloudWatch metric through the Embedded Metric Format (a structured log line that
/// CloudWatch turns into a metric: no SDK call, no extra IAM).
pub fn emit_metric(name: &str, value: f64, unit: &str) {
    let line = serde_json::json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Relier",
                "Dimensions": [[]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
        name: value,
    });
    println!("{line}");
}
