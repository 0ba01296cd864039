//! `relier-admin partner-edge ID [--allow-ip CIDR]... [--clear-allow-ip]
//! [--max-requests-per-15min N | --default-requests-per-15min]`: an account's IP allowlist and
//! its 15-minute request limit. Only these attributes are written (never the balance).
//! To be folded into `partner set` (issue 9's CLI) as `--allow-ip` / `--max-requests-per-15min`.

use anyhow::{bail, Context};
use relier::adapters::dynamo::request_window::EdgeSettings;
use relier::adapters::dynamo::DynamoStore;
use relier::api::edge::ip_allow::Cidr;
use relier::domain::CustomerId;
use relier::ports::AccountReader;

pub const USAGE: &str = "relier-admin partner-edge CUSTOMER_ID [--allow-ip CIDR]... [--clear-allow-ip] [--max-requests-per-15min N | --default-requests-per-15min]";

/// Parse the flags (everything after the customer id).
pub fn parse(args: &[String]) -> anyhow::Result<EdgeSettings> {
    let mut settings = EdgeSettings::default();
    let mut ips: Vec<String> = Vec::new();
    let mut clear = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--allow-ip" => {
                let raw = it.next().context("--allow-ip needs a CIDR")?;
                Cidr::parse(raw).map_err(anyhow::Error::msg)?;
                ips.push(raw.trim().to_owned());
            }
            "--clear-allow-ip" => clear = true,
            "--max-requests-per-15min" => {
                let n: u32 = it
                    .next()
                    .context("--max-requests-per-15min needs a number")?
                    .parse()
                    .context("--max-requests-per-15min must be a whole number")?;
                if n == 0 {
                    bail!("--max-requests-per-15min must be at least 1");
                }
                settings.max_requests_per_15min = Some(Some(n));
            }
            "--default-requests-per-15min" => settings.max_requests_per_15min = Some(None),
            other => bail!("unknown flag {other}\nusage: {USAGE}"),
        }
    }
    if clear && !ips.is_empty() {
        bail!("--clear-allow-ip and --allow-ip exclude each other");
    }
    if clear {
        settings.allowed_ips = Some(Vec::new());
    } else if !ips.is_empty() {
        settings.allowed_ips = Some(ips);
    }
    Ok(settings)
}

pub async fn run(store: &DynamoStore, args: &[String]) -> anyhow::Result<()> {
    let id = args.first().context(USAGE)?;
    let customer = CustomerId::parse(id).map_err(anyhow::Error::msg)?;
    let settings = parse(&args[1..])?;
    if !store.set_edge_settings(&customer, &settings).await? {
        bail!("no account {id}");
    }
    let account = store
        .get_account(&customer)
        .await?
        .context("account vanished")?;
    println!(
        "{id}: allow-ip {} ; {} requests / 15 min",
        if account.allowed_ips.is_empty() {
            "any".to_owned()
        } else {
            account.allowed_ips.join(" ")
        },
        relier::api::edge::window::limit_for(&account)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_become_settings() {
        let s = parse(&args(&[
            "--allow-ip",
            "203.0.113.0/24",
            "--allow-ip",
            "198.51.100.7",
            "--max-requests-per-15min",
            "1000",
        ]))
        .unwrap();
        assert_eq!(
            s.allowed_ips,
            Some(vec!["203.0.113.0/24".into(), "198.51.100.7".into()])
        );
        assert_eq!(s.max_requests_per_15min, Some(Some(1000)));
        assert_eq!(
            parse(&args(&["--clear-allow-ip"])).unwrap().allowed_ips,
            Some(vec![])
        );
        assert!(parse(&args(&["--allow-ip", "10.0.0.1/8"])).is_err());
        assert!(parse(&args(&["--max-requests-per-15min", "0"])).is_err());
        assert!(parse(&args(&["--clear-allow-ip", "--allow-ip", "10.0.0.0/8"])).is_err());
    }
}
