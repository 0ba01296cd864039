//! What every command needs: config (the environment, or the stack's outputs with
//! `--stack`), the store, the API Gateway usage plan if any, and who is running it.

use crate::gateway::ApiGateway;
use anyhow::Context;
use relier::adapters::dynamo::DynamoStore;
use relier::config::{aws_sdk_config, AppConfig};
use relier::ops::stack::StackSettings;
use relier::ops::Actor;

pub struct Ctx {
    pub config: AppConfig,
    pub sdk: aws_config::SdkConfig,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub store: DynamoStore,
    /// `--stack NAME`: what its outputs said.
    pub stack: Option<StackSettings>,
    /// `--usage-plan-id ID` (wins over the stack's `UsagePlanId`).
    pub usage_plan_id: Option<String>,
}

impl Ctx {
    pub async fn new(stack: Option<&str>, usage_plan_id: Option<String>) -> anyhow::Result<Self> {
        let mut config = AppConfig::from_env()?;
        let sdk = aws_sdk_config().await;
        let stack = match stack {
            Some(name) => {
                let settings = crate::stack::read(&sdk, name).await?;
                settings.apply(&mut config);
                Some(settings)
            }
            None => None,
        };
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
            stack,
            usage_plan_id,
        })
    }

    /// API Gateway and the usage plan partner keys go in: `--usage-plan-id`, else the stack's
    /// `UsagePlanId` output (an error if it has none); None without either flag.
    pub fn gateway(&self) -> anyhow::Result<Option<(ApiGateway, String)>> {
        let plan = match (&self.usage_plan_id, &self.stack) {
            (Some(id), _) => id.clone(),
            (None, Some(stack)) => stack.usage_plan().map_err(anyhow::Error::msg)?,
            (None, None) => return Ok(None),
        };
        Ok(Some((
            ApiGateway(aws_sdk_apigateway::Client::new(&self.sdk)),
            plan,
        )))
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
