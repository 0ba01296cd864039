//! `relier-admin --stack NAME`: what the ops tool needs (table names, queue URLs, the usage
//! plan, the mode) read from the CloudFormation stack's outputs instead of the environment.
//! The output names are template.yaml's `Outputs`; the DescribeStacks call is the admin
//! tool's (`infra/admin/src/stack.rs`), this is only the mapping.

use crate::config::{AppConfig, Mode};
use std::collections::HashMap;

pub const ACCOUNTS_TABLE: &str = "AccountsTableName";
pub const TRANSACTIONS_TABLE: &str = "TransactionsTableName";
pub const TOPUP_QUEUE_URL: &str = "TopupQueueUrl";
pub const TOPUP_DLQ_URL: &str = "TopupDeadLetterQueueUrl";
pub const WEBHOOK_QUEUE_URL: &str = "WebhookQueueUrl";
pub const WEBHOOK_DLQ_URL: &str = "WebhookDeadLetterQueueUrl";
pub const USAGE_PLAN_ID: &str = "UsagePlanId";
pub const MODE: &str = "Mode";

/// Every output the admin tool reads (template.yaml must declare each; a unit test checks).
pub const OUTPUTS: [&str; 8] = [
    ACCOUNTS_TABLE,
    TRANSACTIONS_TABLE,
    TOPUP_QUEUE_URL,
    TOPUP_DLQ_URL,
    WEBHOOK_QUEUE_URL,
    WEBHOOK_DLQ_URL,
    USAGE_PLAN_ID,
    MODE,
];

/// The settings a stack gives the admin tool.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSettings {
    pub stack: String,
    pub accounts_table: String,
    pub transactions_table: String,
    pub topup_queue_url: Option<String>,
    pub topup_dlq_url: Option<String>,
    pub webhook_queue_url: Option<String>,
    pub webhook_dlq_url: Option<String>,
    pub usage_plan_id: Option<String>,
    pub mode: Mode,
}

impl StackSettings {
    /// The tables are required (every command needs them); the queues and the usage plan are
    /// optional here and required by the commands that use them ([`Self::usage_plan`]). A
    /// stack without a `Mode` output counts as PRODUCTION (`load-fixtures` refuses it).
    pub fn from_outputs(stack: &str, outputs: &HashMap<String, String>) -> Result<Self, String> {
        let get = |name: &str| {
            outputs
                .get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &str| {
            get(name).ok_or_else(|| {
                format!("stack {stack} has no output {name} (deploy the current template.yaml)")
            })
        };
        let mode = match get(MODE).map(|m| m.to_ascii_uppercase()).as_deref() {
            Some("SANDBOX") => Mode::Sandbox,
            Some("PRODUCTION") | None => Mode::Production,
            Some(other) => {
                return Err(format!(
                    "stack {stack}: output {MODE} is {other:?}, not SANDBOX or PRODUCTION"
                ))
            }
        };
        Ok(Self {
            stack: stack.to_owned(),
            accounts_table: required(ACCOUNTS_TABLE)?,
            transactions_table: required(TRANSACTIONS_TABLE)?,
            topup_queue_url: get(TOPUP_QUEUE_URL),
            topup_dlq_url: get(TOPUP_DLQ_URL),
            webhook_queue_url: get(WEBHOOK_QUEUE_URL),
            webhook_dlq_url: get(WEBHOOK_DLQ_URL),
            usage_plan_id: get(USAGE_PLAN_ID),
            mode,
        })
    }

    /// The stack's values replace the environment's (same meaning as the variables
    /// ACCOUNTS_TABLE, TRANSACTIONS_TABLE, TOPUP_QUEUE_URL, TOPUP_DLQ_URL, WEBHOOK_QUEUE_URL, MODE).
    pub fn apply(&self, config: &mut AppConfig) {
        config.accounts_table = self.accounts_table.clone();
        config.transactions_table = self.transactions_table.clone();
        config.queue_url = self.topup_queue_url.clone();
        config.dlq_url = self.topup_dlq_url.clone();
        config.webhook_queue_url = self.webhook_queue_url.clone();
        config.mode = self.mode;
    }

    /// The usage plan partner keys go in, or a one-line reason.
    pub fn usage_plan(&self) -> Result<String, String> {
        self.usage_plan_id.clone().ok_or_else(|| {
            format!(
                "stack {} has no output {USAGE_PLAN_ID} (deploy the current template.yaml)",
                self.stack
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn given_the_outputs_of_a_stack_when_read_then_tables_queues_plan_and_mode_come_from_them() {
        // GIVEN every output the template declares
        let o = outputs(&[
            (ACCOUNTS_TABLE, "relier-prod-accounts"),
            (TRANSACTIONS_TABLE, "relier-prod-transactions"),
            (TOPUP_QUEUE_URL, "https://sqs/q"),
            (TOPUP_DLQ_URL, "https://sqs/q-dlq"),
            (WEBHOOK_QUEUE_URL, "https://sqs/w"),
            (WEBHOOK_DLQ_URL, "https://sqs/w-dlq"),
            (USAGE_PLAN_ID, "abc123"),
            (MODE, "SANDBOX"),
        ]);
        // WHEN they are read and applied over an environment's config
        let s = StackSettings::from_outputs("relier-prod", &o).unwrap();
        let mut config = AppConfig::from_env().unwrap();
        s.apply(&mut config);
        // THEN the config carries the stack's values
        assert_eq!(config.accounts_table, "relier-prod-accounts");
        assert_eq!(config.transactions_table, "relier-prod-transactions");
        assert_eq!(config.queue_url.as_deref(), Some("https://sqs/q"));
        assert_eq!(config.dlq_url.as_deref(), Some("https://sqs/q-dlq"));
        assert_eq!(config.webhook_queue_url.as_deref(), Some("https://sqs/w"));
        assert_eq!(config.mode, Mode::Sandbox);
        assert_eq!(s.usage_plan().unwrap(), "abc123");
    }

    #[test]
    fn given_a_stack_without_a_table_output_when_read_then_a_one_line_error_names_it() {
        let o = outputs(&[(ACCOUNTS_TABLE, "a")]);
        let err = StackSettings::from_outputs("old", &o).unwrap_err();
        assert_eq!(
            err,
            "stack old has no output TransactionsTableName (deploy the current template.yaml)"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn given_no_mode_and_no_plan_when_read_then_production_and_the_plan_is_a_clear_error() {
        let o = outputs(&[(ACCOUNTS_TABLE, "a"), (TRANSACTIONS_TABLE, "t")]);
        let s = StackSettings::from_outputs("s", &o).unwrap();
        assert_eq!(s.mode, Mode::Production);
        assert_eq!(
            s.usage_plan().unwrap_err(),
            "stack s has no output UsagePlanId (deploy the current template.yaml)"
        );
        let bad = outputs(&[
            (ACCOUNTS_TABLE, "a"),
            (TRANSACTIONS_TABLE, "t"),
            (MODE, "x"),
        ]);
        assert!(StackSettings::from_outputs("s", &bad).is_err());
    }

    #[test]
    fn template_yaml_declares_every_output_the_admin_tool_reads() {
        // GIVEN template.yaml's Outputs section
        let template = include_str!("../../../template.yaml");
        let outputs = template
            .split("\nOutputs:\n")
            .nth(1)
            .expect("template.yaml has an Outputs section");
        // THEN each name the admin tool reads is declared there
        for name in OUTPUTS {
            assert!(
                outputs.contains(&format!("\n  {name}:\n")),
                "template.yaml Outputs lacks {name}"
            );
        }
    }
}
