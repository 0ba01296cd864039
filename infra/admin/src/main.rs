//! relier-admin: the ops tool, for the local stack and AWS alike (normal AWS credentials and
//! region; table names from ACCOUNTS_TABLE / TRANSACTIONS_TABLE, or from the stack's outputs
//! with `--stack NAME`). One module per command group in `cmd/`; the use cases live in
//! `relier::ops`. Errors are one line on stderr, exit 1.

mod cmd;
mod ctx;
mod gateway;
mod stack;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "relier-admin",
    version,
    about = "Operate Relier: partners, money, keys, audit"
)]
struct Cli {
    /// Read table names, queue URLs, the usage plan and the mode from this CloudFormation
    /// stack's outputs (instead of ACCOUNTS_TABLE, TRANSACTIONS_TABLE, TOPUP_QUEUE_URL, ...).
    /// Key commands then also create / delete the API Gateway key in the stack's usage plan.
    #[arg(long, global = true, value_name = "NAME")]
    stack: Option<String>,
    /// API Gateway usage plan for partner keys: `partner create`, `key add` and `key revoke`
    /// also create / delete the API Gateway key (overrides the stack's UsagePlanId).
    #[arg(long, global = true, value_name = "ID")]
    usage_plan_id: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the tables (and the queue when TOPUP_QUEUE_URL is set) if missing (idempotent).
    Setup,
    /// Load sandbox fixtures (partners, reconcile keys, rate). Refused when MODE=PRODUCTION.
    LoadFixtures {
        /// e.g. infra/local/fixtures.json
        file: String,
    },
    /// Check every account: opening + Σ ledger == balance, no gaps (non-zero exit on problems).
    LedgerCheck,
    /// Onboard and configure partners.
    #[command(subcommand)]
    Partner(cmd::partner::PartnerCmd),
    /// Credit money received (a wire transfer): a CREDIT ledger line, idempotent on --reference.
    Credit(cmd::credit::CreditArgs),
    /// Correct a balance (either sign): an ADJUSTMENT ledger line, idempotent on --reference.
    Adjust(cmd::credit::AdjustArgs),
    /// Partner API keys: add (rotation), list (with last use), revoke; with a usage plan
    /// (`--usage-plan-id` / `--stack`) also at API Gateway.
    #[command(subcommand)]
    Key(cmd::key::KeyCmd),
    /// The distributor API secret of a partner.
    #[command(subcommand)]
    DistributorSecret(cmd::distributor::DistributorCmd),
    /// Keys of the reconciliation export (per partner, or one for all partners).
    #[command(subcommand)]
    ReconcileKey(cmd::reconcile_key::ReconcileKeyCmd),
    /// A partner's audit trail (`*` for all-partners keys): who, what, when, before, after.
    Audit(cmd::audit::AuditArgs),
    /// Webhooks (Standard Webhooks): endpoint, secret rotation, test ping, deliveries, replay.
    #[command(subcommand)]
    Webhook(cmd::webhook::WebhookCmd),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = ctx::Ctx::new(cli.stack.as_deref(), cli.usage_plan_id).await?;
    match cli.command {
        Command::Setup => cmd::local::setup(&ctx).await,
        Command::LoadFixtures { file } => cmd::local::load_fixtures(&ctx, &file).await,
        Command::LedgerCheck => cmd::local::ledger_check(&ctx).await,
        Command::Partner(c) => cmd::partner::run(&ctx, c).await,
        Command::Credit(a) => cmd::credit::credit(&ctx, a).await,
        Command::Adjust(a) => cmd::credit::adjust(&ctx, a).await,
        Command::Key(c) => cmd::key::run(&ctx, c).await,
        Command::DistributorSecret(c) => cmd::distributor::run(&ctx, c).await,
        Command::ReconcileKey(c) => cmd::reconcile_key::run(&ctx, c).await,
        Command::Audit(a) => cmd::audit::run(&ctx, a).await,
        Command::Webhook(c) => cmd::webhook::run(&ctx, c).await,
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}
