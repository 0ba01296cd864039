//! `setup`, `load-fixtures FILE`, `ledger-check` (used by make dev / make test).

use crate::ctx::Ctx;
use anyhow::{bail, Context};
use relier::config::Mode;

pub async fn setup(ctx: &Ctx) -> anyhow::Result<()> {
    relier::adapters::dynamo::schema::create_tables(
        &ctx.dynamo,
        &ctx.config.accounts_table,
        &ctx.config.transactions_table,
    )
    .await
    .context("creating tables")?;
    println!(
        "tables ready: {}, {}",
        ctx.config.accounts_table, ctx.config.transactions_table
    );
    if let Some(url) = &ctx.config.queue_url {
        let dlq = std::env::var("TOPUP_DLQ_URL").unwrap_or_else(|_| format!("{url}-dlq"));
        let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
        let created = relier::adapters::sqs::create_queues(
            &sqs,
            relier::adapters::sqs::queue_name(url),
            relier::adapters::sqs::queue_name(&dlq),
        )
        .await?;
        println!("queue ready: {created}");
    }
    if let Some(url) = &ctx.config.webhook_queue_url {
        let dlq = std::env::var("WEBHOOK_DLQ_URL").unwrap_or_else(|_| format!("{url}-dlq"));
        let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
        let created = relier::webhooks::queue::create_queues(
            &sqs,
            relier::adapters::sqs::queue_name(url),
            relier::adapters::sqs::queue_name(&dlq),
        )
        .await?;
        println!("webhook queue ready: {created}");
    }
    Ok(())
}

pub async fn load_fixtures(ctx: &Ctx, path: &str) -> anyhow::Result<()> {
    if ctx.config.mode == Mode::Production {
        bail!("refusing to load fixtures with MODE=PRODUCTION: they carry keys printed in public guides");
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let fixtures: relier::adapters::dynamo::fixtures::Fixtures =
        serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
    let created = relier::adapters::dynamo::fixtures::load(&ctx.store, &fixtures).await?;
    println!(
        "fixtures loaded: {created} new account(s), rate {:?}",
        fixtures.fx_rate.map(|r| r.to_string())
    );
    Ok(())
}

pub async fn ledger_check(ctx: &Ctx) -> anyhow::Result<()> {
    let reports = relier::jobs::ledger_check::check_all(&ctx.store).await?;
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
    Ok(())
}
