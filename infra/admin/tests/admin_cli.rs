//! The `relier-admin` binary against the local stack: DynamoDB Local for the tables, moto for
//! CloudFormation (`--stack`: a stack whose outputs name this test's tables and usage plan) and
//! API Gateway (the partner keys in the usage plan). `make test` exports the endpoints
//! (infra/local/env.sh); a bare `cargo test` uses the default ports 8000 / 5000.

use std::process::Command;

fn local_env() {
    let ddb = std::env::var("RELIER_DDB_PORT").unwrap_or_else(|_| "8000".into());
    let moto = std::env::var("RELIER_MOTO_PORT").unwrap_or_else(|_| "5000".into());
    for (k, v) in [
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://127.0.0.1:{ddb}"),
        ),
        (
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            format!("http://127.0.0.1:{moto}"),
        ),
        (
            "AWS_ENDPOINT_URL_API_GATEWAY",
            format!("http://127.0.0.1:{moto}"),
        ),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ] {
        if std::env::var(k).is_err() {
            // SAFETY: set before any client is built or child started; tests only read these.
            unsafe { std::env::set_var(k, v) };
        }
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &relier::domain::TransactionId::generate().as_str()[3..15]
    )
    .to_lowercase()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run relier-admin with the environment's table names pointing nowhere useful, so only
/// `--stack` can make a command find its tables.
fn admin(args: &[&str]) -> Run {
    local_env();
    let out = Command::new(env!("CARGO_BIN_EXE_relier-admin"))
        .args(args)
        .env("ACCOUNTS_TABLE", "not-this-accounts-table")
        .env("TRANSACTIONS_TABLE", "not-this-transactions-table")
        .env_remove("TOPUP_QUEUE_URL")
        .env_remove("WEBHOOK_QUEUE_URL")
        .env_remove("MODE")
        .output()
        .expect("relier-admin runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(args: &[&str]) -> String {
    let r = admin(args);
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r.stdout
}

/// The printed key of `partner create` / `key add`.
fn printed_key(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("API key (shown once, stored only as a hash): "))
        .expect("a key was printed")
        .to_owned()
}

async fn sdk() -> aws_config::SdkConfig {
    local_env();
    relier::config::aws_sdk_config().await
}

async fn usage_plan(sdk: &aws_config::SdkConfig) -> String {
    aws_sdk_apigateway::Client::new(sdk)
        .create_usage_plan()
        .name(unique("plan"))
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

/// A stack in moto whose outputs are `outputs` (one SNS topic as its only resource).
async fn stack(sdk: &aws_config::SdkConfig, outputs: &[(&str, &str)]) -> String {
    let name = unique("relier-cli");
    let outputs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!({ "Value": v })))
        .collect();
    let template = serde_json::json!({
        "Resources": { "Topic": { "Type": "AWS::SNS::Topic" } },
        "Outputs": outputs,
    });
    aws_sdk_cloudformation::Client::new(sdk)
        .create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    name
}

/// The values of the API keys in the usage plan.
async fn plan_key_values(sdk: &aws_config::SdkConfig, plan: &str) -> Vec<String> {
    let gw = aws_sdk_apigateway::Client::new(sdk);
    let in_plan = gw
        .get_usage_plan_keys()
        .usage_plan_id(plan)
        .send()
        .await
        .unwrap();
    // moto keeps a deleted key in the plan's list; API Gateway drops it: ask for each key.
    let mut values = Vec::new();
    for k in in_plan.items() {
        let found = gw
            .get_api_key()
            .api_key(k.id().unwrap())
            .include_value(true)
            .send()
            .await;
        if let Ok(key) = found {
            values.push(key.value().unwrap().to_owned());
        }
    }
    values
}

async fn gateway_key_names(sdk: &aws_config::SdkConfig, prefix: &str) -> Vec<String> {
    aws_sdk_apigateway::Client::new(sdk)
        .get_api_keys()
        .name_query(prefix)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|k| k.name().map(str::to_owned))
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn given_a_stack_when_keys_are_added_and_revoked_then_its_tables_and_usage_plan_are_used() {
    // GIVEN a stack whose outputs name fresh tables and a usage plan, and an environment whose
    // ACCOUNTS_TABLE / TRANSACTIONS_TABLE name other tables
    let sdk = sdk().await;
    let plan = usage_plan(&sdk).await;
    let (accounts, transactions) = (unique("cli-accounts"), unique("cli-transactions"));
    let stack = stack(
        &sdk,
        &[
            ("AccountsTableName", &accounts),
            ("TransactionsTableName", &transactions),
            ("UsagePlanId", &plan),
            ("Mode", "SANDBOX"),
        ],
    )
    .await;
    let customer = unique("CLI").to_uppercase().replace('-', "_");

    // WHEN the tables are set up and a partner created with --stack
    let setup = ok(&["--stack", &stack, "setup"]);
    let created = ok(&[
        "--stack",
        &stack,
        "partner",
        "create",
        "--customer-id",
        &customer,
        "--company",
        "CLI Co",
    ]);
    // THEN the stack's tables were used, and the printed key is in the stack's usage plan
    assert!(
        setup.contains(&format!("tables ready: {accounts}, {transactions}")),
        "{setup}"
    );
    let first = printed_key(&created);
    let first_prefix: String = first.chars().take(12).collect();
    assert!(
        created.contains(&format!(
            "(relier-{customer}-{first_prefix}) in usage plan {plan}"
        )),
        "{created}"
    );
    assert_eq!(plan_key_values(&sdk, &plan).await, vec![first.clone()]);

    // WHEN a second key is added (rotation)
    let added = ok(&["--stack", &stack, "key", "add", &customer]);
    let second = printed_key(&added);
    // THEN both are in the plan and in `key list`
    let mut values = plan_key_values(&sdk, &plan).await;
    values.sort();
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    assert_eq!(values, both);
    let listed = ok(&["--stack", &stack, "key", "list", &customer]);
    assert!(listed.contains("2 active key(s)"), "{listed}");
    assert!(listed.contains("last_used"), "{listed}");

    // WHEN the first key is revoked
    let revoked = ok(&["--stack", &stack, "key", "revoke", &customer, &first_prefix]);
    // THEN it is gone here and at API Gateway; the second stays in both
    assert!(
        revoked.contains("deleted API Gateway key") && revoked.contains(&first_prefix),
        "{revoked}"
    );
    assert_eq!(plan_key_values(&sdk, &plan).await, vec![second]);
    assert!(
        gateway_key_names(&sdk, &format!("relier-{customer}-{first_prefix}"))
            .await
            .is_empty()
    );
    let listed = ok(&["--stack", &stack, "key", "list", &customer]);
    assert!(listed.contains("1 active key(s)"), "{listed}");

    // AND without --stack the environment's (other) tables are used: the partner is not there
    let r = admin(&["partner", "show", &customer]);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[tokio::test]
async fn given_no_such_stack_when_a_command_runs_then_one_line_error_and_exit_1() {
    let r = admin(&["--stack", "relier-no-such-stack", "partner", "list"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: stack relier-no-such-stack does not exist in us-east-1 (check --stack and AWS_REGION)\n"
    );
    assert!(r.stdout.is_empty());
}

#[tokio::test]
async fn given_a_stack_without_a_usage_plan_output_when_a_partner_is_created_then_nothing_is_stored(
) {
    // GIVEN a stack with its tables but no UsagePlanId (nor Mode) output
    let sdk = sdk().await;
    let (accounts, transactions) = (unique("cli-accounts"), unique("cli-transactions"));
    let stack = stack(
        &sdk,
        &[
            ("AccountsTableName", &accounts),
            ("TransactionsTableName", &transactions),
        ],
    )
    .await;
    ok(&["--stack", &stack, "setup"]);
    // WHEN a partner is created with --stack
    let r = admin(&[
        "--stack",
        &stack,
        "partner",
        "create",
        "--customer-id",
        "NOPLAN_001",
        "--company",
        "No Plan",
    ]);
    // THEN a one-line error names the missing output and no partner was stored
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: stack {stack} has no output UsagePlanId (deploy the current template.yaml)\n"
        )
    );
    let list = ok(&["--stack", &stack, "partner", "list"]);
    assert!(!list.contains("NOPLAN_001"), "{list}");
    // AND a stack without a Mode output counts as PRODUCTION: no public fixtures loaded into it
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../local/fixtures.json");
    let r = admin(&["--stack", &stack, "load-fixtures", fixtures]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("MODE=PRODUCTION"), "{}", r.stderr);
}

#[tokio::test]
async fn given_a_stack_missing_a_table_output_when_a_command_runs_then_it_names_the_output() {
    let sdk = sdk().await;
    let stack = stack(&sdk, &[("AccountsTableName", "a")]).await;
    let r = admin(&["--stack", &stack, "partner", "list"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: stack {stack} has no output TransactionsTableName (deploy the current template.yaml)\n"
        )
    );
}

#[tokio::test]
async fn given_an_unknown_usage_plan_id_when_a_key_is_added_then_refused_before_anything_is_stored()
{
    // GIVEN a stack with a partner
    let sdk = sdk().await;
    let plan = usage_plan(&sdk).await;
    let (accounts, transactions) = (unique("cli-accounts"), unique("cli-transactions"));
    let stack = stack(
        &sdk,
        &[
            ("AccountsTableName", &accounts),
            ("TransactionsTableName", &transactions),
            ("UsagePlanId", &plan),
        ],
    )
    .await;
    ok(&["--stack", &stack, "setup"]);
    ok(&[
        "--stack",
        &stack,
        "partner",
        "create",
        "--customer-id",
        "PLAN_001",
        "--company",
        "Plan Co",
    ]);
    // WHEN a key is added with --usage-plan-id naming no plan (it wins over the stack's)
    let r = admin(&[
        "--stack",
        &stack,
        "--usage-plan-id",
        "no-such-plan",
        "key",
        "add",
        "PLAN_001",
    ]);
    // THEN it is refused with one line, nothing printed, and the partner still has one key
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "error: usage plan no-such-plan: no such usage plan\n"
    );
    assert!(!r.stdout.contains("API key"), "{}", r.stdout);
    let listed = ok(&["--stack", &stack, "key", "list", "PLAN_001"]);
    assert!(listed.contains("1 active key(s)"), "{listed}");
}
