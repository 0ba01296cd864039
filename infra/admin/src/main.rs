//! relier-admin: local/ops chores. `setup` (tables + queues, idempotent), `load-fixtures FILE`
//! (sandbox partners + rate), `ledger-check` (non-zero exit when any account is off),
//! `webhook …` and `partner set ID --low-balance-usd N` (src/cmd/webhook.rs).

mod cmd;

use anyhow::{bail, Context};
use relier::config::{aws_sdk_config, AppConfig};
use relier::store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = AppConfig::from_env()?;
    let sdk = aws_sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(
        dynamo.clone(),
        config.accounts_table.clone(),
        config.transactions_table.clone(),
    );
    match args.first().map(String::as_str) {
        Some("setup") => {
            relier::store::schema::create_tables(
                &dynamo,
                &config.accounts_table,
                &config.transactions_table,
            )
            .await
            .context("creating tables")?;
            println!(
                "tables ready: {}, {}",
                config.accounts_table, config.transactions_table
            );
            if let Some(url) = &config.queue_url {
                let dlq = std::env::var("TOPUP_DLQ_URL").unwrap_or_else(|_| format!("{url}-dlq"));
                let sqs = aws_sdk_sqs::Client::new(&sdk);
                let created = relier::queue::create_queues(
                    &sqs,
                    relier::queue::queue_name(url),
                    relier::queue::queue_name(&dlq),
                )
                .await?;
                println!("queue ready: {created}");
            }
            if let Some(url) = &config.webhook_queue_url {
                let dlq = std::env::var("WEBHOOK_DLQ_URL").unwrap_or_else(|_| format!("{url}-dlq"));
                let sqs = aws_sdk_sqs::Client::new(&sdk);
                let created = relier::webhooks::queue::create_queues(
                    &sqs,
                    relier::queue::queue_name(url),
                    relier::queue::queue_name(&dlq),
                )
                .await?;
                println!("webhook queue ready: {created}");
            }
        }
        Some("webhook") => {
            let dispatcher = config.webhook_queue_url.as_ref().map(|url| {
                relier::webhooks::dispatch::Dispatcher {
                    store: std::sync::Arc::new(store.clone()),
                    queue: std::sync::Arc::new(relier::webhooks::queue::SqsDispatchQueue::new(
                        aws_sdk_sqs::Client::new(&sdk),
                        url,
                    )),
                    sender: std::sync::Arc::new(relier::webhooks::sender::HttpSender::new(
                        config.mode,
                    )),
                    clock: std::sync::Arc::new(relier::clock::SystemClock),
                }
            });
            cmd::webhook::webhook(&args[1..], &store, dispatcher.as_ref(), config.mode).await?;
        }
        Some("partner") => cmd::webhook::partner(&args[1..], &store).await?,
        Some("load-fixtures") => {
            let path = args
                .get(1)
                .context("usage: relier-admin load-fixtures FILE")?;
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
            let fixtures: relier::fixtures::Fixtures = serde_json::from_str(&text)?;
            let created = relier::fixtures::load(&store, &fixtures).await?;
            println!(
                "fixtures loaded: {created} new account(s), rate {:?}",
                fixtures.fx_rate.map(|r| r.to_string())
            );
        }
        Some("ledger-check") => {
            let reports = relier::ledger::check_all(&store).await?;
            let mut bad = 0;
            for r in &reports {
                if r.ok() {
                    println!(
                        "OK   {:<24} balance {:>12} entries {}",
                        r.customer_id, r.balance, r.entries
                    );
                } else {
                    bad += 1;
                    println!("FAIL {:<24} {}", r.customer_id, r.problems.join("; "));
                }
            }
            println!(
                "{} account(s) checked, {} with problems",
                reports.len(),
                bad
            );
            if bad > 0 {
                bail!("ledger check failed");
            }
        }
        _ => bail!(
            "usage: relier-admin setup | load-fixtures FILE | ledger-check\n{}",
            cmd::webhook::USAGE
        ),
    }
    Ok(())
}
