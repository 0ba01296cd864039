//! What every command needs: config, the store, and who is running it.

use anyhow::Context;
use relier::adapters::dynamo::DynamoStore;
use relier::config::{aws_sdk_config, AppConfig};
use relier::ops::Actor;

pub struct Ctx {
    pub config: AppConfig,
    pub sdk: aws_config::SdkConfig,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub store: DynamoStore,
}

impl Ctx {
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = AppConfig::from_env()?;
        let sdk = aws_sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let store = DynamoStore::new(
            dynamo.clone(),
            config.accounts_table.clone(),
            config.transactions_table.clone(),
        );
        Ok(Self {
            config,
            sdk,
            dynamo,
            store,
        })
    }

    /// Who is acting, for the audit trail: the AWS caller identity (ARN) against AWS, or
    /// `local:<user>` against a local endpoint (AWS_ENDPOINT_URL_DYNAMODB set).
    pub async fn actor(&self) -> anyhow::Result<Actor> {
        if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok_and(|v| !v.is_empty()) {
            let user = ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .unwrap_or_else(|| "unknown".into());
            return Ok(Actor(format!("local:{user}")));
        }
        let who = aws_sdk_sts::Client::new(&self.sdk)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sts::error::DisplayErrorContext(e)))
            .context(
                "cannot tell who you are (sts:GetCallerIdentity); check your AWS credentials",
            )?;
        Ok(Actor(who.arn().unwrap_or("unknown").to_owned()))
    }
}
