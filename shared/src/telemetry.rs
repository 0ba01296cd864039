//! JSON logs via tracing. Nothing here ever logs a header value, a key or a secret.

/// Install the JSON subscriber once per cold start. `RUST_LOG` filters by level and target
/// (`info`, `warn,relier=debug`, ...; default `info`). It is parsed as a `Targets` filter, not an
/// `EnvFilter`: same directive syntax without span/field matching, which would link a regex
/// engine into every binary (issue 14, size).
pub fn init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init();
}

/// `RUST_LOG` as a level/target filter; absent or unparsable means `info`.
pub fn log_filter(directives: Option<&str>) -> tracing_subscriber::filter::Targets {
    directives
        .filter(|d| !d.trim().is_empty())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::level_filters::LevelFilter::INFO)
        })
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

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn given_rust_log_when_parsed_then_levels_and_targets_apply() {
        // GIVEN a directive with a default and a per-target level
        let f = log_filter(Some("warn,relier=debug"));
        // THEN the target gets its own level and others the default
        assert!(f.would_enable("relier::topup", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(f.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn given_no_or_bad_rust_log_when_parsed_then_info() {
        for d in [None, Some(""), Some("relier=[bad")] {
            let f = log_filter(d);
            assert!(f.would_enable("relier", &Level::INFO), "{d:?}");
            assert!(!f.would_enable("relier", &Level::DEBUG), "{d:?}");
        }
    }
}
