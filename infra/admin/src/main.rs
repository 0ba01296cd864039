//! relier-admin: the ops tool, for the local stack and AWS alike (normal AWS credentials and
//! region; table names from ACCOUNTS_TABLE / TRANSACTIONS_TABLE). One module per command group
//! in `cmd/`; the use cases live in `relier::ops`. Errors are one line on stderr, exit 1.

mod cmd;
mod ctx;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "relier-admin",
    version,
    about = "Operate Relier: partners, money, keys, audit"
)]
struct Cli {
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
    /// Partner API keys: add (rotation), list, revoke.
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
    if let Err(e) = run(cli.command).await {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let ctx = ctx::Ctx::from_env().await?;
    match command {
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
