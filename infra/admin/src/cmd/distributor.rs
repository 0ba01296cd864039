//! `distributor-secret set ID`: a new secret for the distributor API's login, printed once.

use super::{fail, now};
use crate::ctx::Ctx;
use clap::Subcommand;
use relier::ops::keys;

#[derive(Subcommand)]
pub enum DistributorCmd {
    /// Generate a new distributor secret (replaces the old one at once).
    Set { customer_id: String },
}

pub async fn run(ctx: &Ctx, cmd: DistributorCmd) -> anyhow::Result<()> {
    match cmd {
        DistributorCmd::Set { customer_id } => {
            let actor = ctx.actor().await?;
            let secret = keys::set_distributor_secret(&ctx.store, &actor, &customer_id, now())
                .await
                .map_err(fail)?;
            println!("distributor secret of {customer_id} replaced; the old one no longer logs in");
            println!("secret_key (shown once, stored only as a hash): {secret}");
        }
    }
    Ok(())
}
