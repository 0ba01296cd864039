//! The tables, declared once for code (local setup and tests create them from here); a test
//! asserts `template.yaml` declares the same keys, GSI and TTL.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

/// Accounts table: pk/sk; holds accounts, daily counters, idempotency claims, ledger, rates.
pub const ACCOUNTS_KEYS: (&str, &str) = ("pk", "sk");
/// TTL attribute (daily counters expire by it).
pub const ACCOUNTS_TTL_ATTRIBUTE: &str = "expires_at";
/// Transactions table hash key.
pub const TRANSACTIONS_KEY: &str = "id";
/// Sparse GSI over open (PENDING / PROCESSING) transactions, by last update.
pub const OPEN_INDEX: &str = "open-by-updated";
pub const OPEN_INDEX_KEYS: (&str, &str) = ("open_status", "updated_at");
/// Transactions by customer, newest first (partner listing).
pub const CUSTOMER_INDEX: &str = "customer-by-created";
pub const CUSTOMER_INDEX_KEYS: (&str, &str) = ("customer_id", "created_at");
/// Accounts table: ledger lines by customer and time (statements, reconciliation export).
pub const LEDGER_INDEX: &str = "ledger-by-time";
pub const LEDGER_INDEX_KEYS: (&str, &str) = ("ledger_customer", "at");
/// Accounts table: sparse index of the account items (ops listing, all-partners export).
pub const PARTNERS_INDEX: &str = "partners";
pub const PARTNERS_INDEX_KEYS: (&str, &str) = ("entity", "customer_id");
/// Sparse GSI (accounts table) over PENDING webhook deliveries, by when they are due.
pub const WEBHOOK_DUE_INDEX: &str = "webhooks-due";
pub const WEBHOOK_DUE_KEYS: (&str, &str) = ("wh_due", "due_at");
/// What the sweep reads from the index.
pub const WEBHOOK_DUE_PROJECTION: [&str; 3] = ["customer_id", "event_id", "attempts"];

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("static attribute definition")
}

fn gsi(name: &str, keys: (&str, &str)) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(keys.0, KeyType::Hash))
        .key_schema(key(keys.1, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("static index")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("static key schema")
}

/// Create both tables if they do not exist (idempotent), with TTL on the accounts table.
pub async fn create_tables(
    client: &Client,
    accounts_table: &str,
    transactions_table: &str,
) -> Result<(), aws_sdk_dynamodb::Error> {
    let existing = client.list_tables().limit(100).send().await?;
    let names = existing.table_names();
    if !names.iter().any(|n| n == accounts_table) {
        client
            .create_table()
            .table_name(accounts_table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(ACCOUNTS_KEYS.0))
            .attribute_definitions(attr(ACCOUNTS_KEYS.1))
            .attribute_definitions(attr(LEDGER_INDEX_KEYS.0))
            .attribute_definitions(attr(LEDGER_INDEX_KEYS.1))
            .attribute_definitions(attr(PARTNERS_INDEX_KEYS.0))
            .attribute_definitions(attr(PARTNERS_INDEX_KEYS.1))
            .attribute_definitions(attr(WEBHOOK_DUE_KEYS.0))
            .attribute_definitions(attr(WEBHOOK_DUE_KEYS.1))
            .key_schema(key(ACCOUNTS_KEYS.0, KeyType::Hash))
            .key_schema(key(ACCOUNTS_KEYS.1, KeyType::Range))
            .global_secondary_indexes(gsi(LEDGER_INDEX, LEDGER_INDEX_KEYS))
            .global_secondary_indexes(gsi(PARTNERS_INDEX, PARTNERS_INDEX_KEYS))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(WEBHOOK_DUE_INDEX)
                    .key_schema(key(WEBHOOK_DUE_KEYS.0, KeyType::Hash))
                    .key_schema(key(WEBHOOK_DUE_KEYS.1, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .set_non_key_attributes(Some(
                                WEBHOOK_DUE_PROJECTION
                                    .iter()
                                    .map(|a| a.to_string())
                                    .collect(),
                            ))
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await?;
        client
            .update_time_to_live()
            .table_name(accounts_table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ACCOUNTS_TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await?;
    }
    if !names.iter().any(|n| n == transactions_table) {
        client
            .create_table()
            .table_name(transactions_table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(TRANSACTIONS_KEY))
            .attribute_definitions(attr(OPEN_INDEX_KEYS.0))
            .attribute_definitions(attr(OPEN_INDEX_KEYS.1))
            .key_schema(key(TRANSACTIONS_KEY, KeyType::Hash))
            .attribute_definitions(attr(CUSTOMER_INDEX_KEYS.0))
            .attribute_definitions(attr(CUSTOMER_INDEX_KEYS.1))
            .global_secondary_indexes(gsi(OPEN_INDEX, OPEN_INDEX_KEYS))
            .global_secondary_indexes(gsi(CUSTOMER_INDEX, CUSTOMER_INDEX_KEYS))
            .send()
            .await?;
    }
    Ok(())
}
