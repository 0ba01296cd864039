//! The functions' SDK configuration (`config::lambda_sdk_config`): region, credentials and
//! endpoint overrides from the environment only, over the ring-based HTTPS client. Checked
//! against DynamoDB Local, as a function sees it.

mod common;

use relier::adapters::dynamo::DynamoStore;

#[tokio::test]
async fn given_the_lambda_environment_when_the_sdk_config_is_built_then_dynamodb_answers() {
    // GIVEN the local stack's environment (AWS_REGION, keys, AWS_ENDPOINT_URL_DYNAMODB)
    let tables = common::store().await;
    // WHEN a function builds its SDK config and a store on it
    let sdk = relier::config::lambda_sdk_config().expect("config from the environment");
    assert_eq!(
        sdk.region().map(|r| r.as_ref().to_owned()),
        std::env::var("AWS_REGION").ok()
    );
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        tables.accounts_table(),
        tables.transactions_table(),
    );
    // THEN the warm-up read and the health probe reach DynamoDB Local
    store.warm().await.expect("warm-up read");
    store.ping().await.expect("describe table");
}
