//! What the first `sam deploy` needs (issue 13), pinned on template.yaml, infra/bootstrap.yaml,
//! samconfig.toml and the docs, since nothing here can be deployed from CI.

use serde_yaml::Value as Yaml;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Yaml {
    serde_yaml::from_str(&read(rel)).unwrap()
}

fn template() -> Yaml {
    yaml("template.yaml")
}

/// `!Ref X` / `!Sub "..."` / `!GetAtt X.Y` -> ("Ref", "X") etc.
fn tag(v: &Yaml) -> Option<(String, &Yaml)> {
    match v {
        Yaml::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

fn tagged_str<'a>(v: &'a Yaml, name: &str) -> Option<&'a str> {
    tag(v)
        .filter(|(t, _)| t == name)
        .and_then(|(_, v)| v.as_str())
}

fn resources(t: &Yaml) -> Vec<(String, &Yaml)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect()
}

fn of_type<'a>(t: &'a Yaml, ty: &str) -> Vec<(String, &'a Yaml)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(ty))
        .collect()
}

fn props<'a>(t: &'a Yaml, id: &str) -> &'a Yaml {
    let r = &t["Resources"][id];
    assert!(!r.is_null(), "resource {id} missing");
    &r["Properties"]
}

/// One metric an alarm watches: (namespace, metric name, dimensions as (name, value yaml)).
type Watched = (String, String, Vec<(String, Yaml)>);

/// The metric(s) an alarm watches (a plain metric, or each metric of a metric-math alarm).
fn alarm_metrics(alarm: &Yaml) -> Vec<Watched> {
    let dims = |d: &Yaml| -> Vec<(String, Yaml)> {
        d.as_sequence()
            .map(|s| {
                s.iter()
                    .map(|x| (x["Name"].as_str().unwrap().to_owned(), x["Value"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let p = &alarm["Properties"];
    if let Some(name) = p["MetricName"].as_str() {
        return vec![(
            p["Namespace"].as_str().unwrap().to_owned(),
            name.to_owned(),
            dims(&p["Dimensions"]),
        )];
    }
    p["Metrics"]
        .as_sequence()
        .expect("an alarm has MetricName or Metrics")
        .iter()
        .filter_map(|q| {
            let m = &q["MetricStat"]["Metric"];
            m["MetricName"].as_str().map(|n| {
                (
                    m["Namespace"].as_str().unwrap().to_owned(),
                    n.to_owned(),
                    dims(&m["Dimensions"]),
                )
            })
        })
        .collect()
}

fn alarms(t: &Yaml) -> Vec<(String, &Yaml)> {
    of_type(t, "AWS::CloudWatch::Alarm")
}

/// Alarms on `metric` in `namespace` whose dimensions include FunctionName = !Ref `function`.
fn function_alarms<'a>(t: &'a Yaml, metric: &str, function: &str) -> Vec<(String, &'a Yaml)> {
    alarms(t)
        .into_iter()
        .filter(|(_, a)| {
            alarm_metrics(a).iter().any(|(ns, m, d)| {
                ns == "AWS/Lambda"
                    && m == metric
                    && d.iter()
                        .any(|(k, v)| k == "FunctionName" && tagged_str(v, "Ref") == Some(function))
            })
        })
        .collect()
}

const MONEY_FUNCTIONS: [&str; 4] = [
    "TopupFunction",
    "TopupAsyncFunction",
    "TopupWorkerFunction",
    "DistributorPurchaseFunction",
];

// ------------------------------------------------------------------ 2. unsafe defaults

#[test]
fn production_mode_cannot_be_deployed_against_a_provider_that_delivers_nothing() {
    // GIVEN the template
    let t = template();
    // THEN the deployer must choose Mode, ReloadlyEnv and AlarmEmail (no defaults: --guided and
    // CloudFormation ask), and
    for p in ["Mode", "ReloadlyEnv", "AlarmEmail"] {
        assert!(
            t["Parameters"][p]["Default"].is_null(),
            "parameter {p} must have no default"
        );
    }
    // a Rule ties PRODUCTION to TopupProvider=reloadly and ReloadlyEnv=live
    let rule = &t["Rules"]["ProductionDeliversForReal"];
    let cond = serde_yaml::to_string(&rule["RuleCondition"]).unwrap();
    assert!(
        cond.contains("Mode") && cond.contains("PRODUCTION"),
        "{cond}"
    );
    let asserts = serde_yaml::to_string(&rule["Assertions"]).unwrap();
    assert!(
        asserts.contains("ReloadlyEnv") && asserts.contains("live"),
        "{asserts}"
    );
    assert!(
        asserts.contains("TopupProvider") && asserts.contains("reloadly"),
        "{asserts}"
    );
    // and SANDBOX (fixed rate) can never reach Reloadly live
    let rule = serde_yaml::to_string(&t["Rules"]["SandboxNeverDeliversForReal"]).unwrap();
    assert!(
        rule.contains("SANDBOX") && rule.contains("ReloadlyEnv"),
        "{rule}"
    );
}

// ------------------------------------------------------------------ 3. bootstrap

#[test]
fn bootstrap_template_gives_api_gateway_its_cloudwatch_logs_role() {
    // GIVEN the one-time bootstrap template
    let b = yaml("infra/bootstrap.yaml");
    // THEN it sets the account's API Gateway CloudWatch role from a role API Gateway can assume
    let account = of_type(&b, "AWS::ApiGateway::Account");
    assert_eq!(account.len(), 1);
    let role = tagged_str(&account[0].1["Properties"]["CloudWatchRoleArn"], "GetAtt").unwrap();
    let role_id = role.trim_end_matches(".Arn");
    let r = serde_yaml::to_string(props(&b, role_id)).unwrap();
    assert!(r.contains("apigateway.amazonaws.com"), "{r}");
    assert!(r.contains("AmazonAPIGatewayPushToCloudWatchLogs"), "{r}");
    // AND the main stack really needs it (its stage writes access logs)
    let t = template();
    assert!(!props(&t, "PartnerApi")["AccessLogSetting"].is_null());
    // AND the deploy steps run the bootstrap before the first sam deploy
    let readme = read("README.md");
    let boot = readme
        .find("infra/bootstrap.yaml")
        .expect("README deploy steps: bootstrap");
    let deploy = readme
        .find("sam deploy --guided")
        .expect("README: guided deploy");
    assert!(
        boot < deploy,
        "bootstrap must come before the guided deploy"
    );
}

// ------------------------------------------------------------------ 5. one stage only

#[test]
fn the_api_has_only_the_throttled_logged_v1_stage() {
    let t = template();
    // GIVEN the only REST API of the template
    let apis = of_type(&t, "AWS::Serverless::Api");
    assert_eq!(apis.len(), 1, "one API");
    let api = props(&t, "PartnerApi");
    // THEN SAM's extra "Stage" stage is suppressed (OpenApiVersion set) and v1 is throttled + logged
    assert!(api["OpenApiVersion"].as_str().is_some(), "OpenApiVersion");
    assert_eq!(api["StageName"].as_str(), Some("v1"));
    assert!(!api["MethodSettings"][0]["ThrottlingRateLimit"].is_null());
    // AND no function event creates an implicit API (which would bring its own Prod + Stage)
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        if let Some(events) = f["Properties"]["Events"].as_mapping() {
            for (name, e) in events {
                if e["Type"].as_str() == Some("Api") {
                    assert_eq!(
                        tagged_str(&e["Properties"]["RestApiId"], "Ref"),
                        Some("PartnerApi"),
                        "{id}.{name:?} must use PartnerApi"
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------ 6. fx-refresh timeout

#[test]
fn fx_refresh_outlives_its_two_provider_calls() {
    // GIVEN the Reloadly client's per-call budget (RELOADLY_TIMEOUT_MS default, 20 s) and
    // fx-refresh making two calls (rate, balance)
    let client_budget = 20;
    let t = template();
    let timeout = props(&t, "FxRefreshFunction")["Timeout"].as_u64().unwrap();
    // THEN its Lambda timeout leaves room for both plus the secret and token
    assert!(
        timeout >= 2 * client_budget + 10,
        "fx-refresh Timeout {timeout}"
    );
}

// ------------------------------------------------------------------ 7. alarms

#[test]
fn every_alarm_notifies_the_one_required_topic_and_has_a_runbook_line() {
    let t = template();
    // GIVEN the e-mail subscription: unconditional, fed by a required, validated parameter
    let sub = &t["Resources"]["AlarmEmailSubscription"];
    assert!(
        sub["Condition"].is_null(),
        "the subscription is not optional"
    );
    assert!(t["Parameters"]["AlarmEmail"]["AllowedPattern"]
        .as_str()
        .is_some());
    let runbook = read("infra/README.md");
    let all = alarms(&t);
    assert!(all.len() >= 15, "only {} alarms", all.len());
    for (id, a) in all {
        let p = &a["Properties"];
        // THEN every alarm (and its recovery) goes to AlarmTopic
        for key in ["AlarmActions", "OKActions"] {
            let actions = p[key]
                .as_sequence()
                .unwrap_or_else(|| panic!("{id}: {key}"));
            assert!(
                actions
                    .iter()
                    .any(|x| tagged_str(x, "Ref") == Some("AlarmTopic")),
                "{id}: {key} must notify AlarmTopic"
            );
        }
        // AND the runbook has a line for its name ("${AWS::StackName}-<name>")
        let name = tagged_str(&p["AlarmName"], "Sub").unwrap_or_else(|| panic!("{id}: AlarmName"));
        let short = name.trim_start_matches("${AWS::StackName}-");
        assert!(
            runbook.contains(&format!("| `{short}` |")),
            "infra/README.md runbook has no line for `{short}` ({id})"
        );
    }
}

#[test]
fn money_paths_and_dependencies_are_alarmed() {
    let t = template();
    // THEN every money function has an errors alarm and the API-facing ones a throttles alarm
    for f in MONEY_FUNCTIONS {
        assert!(
            !function_alarms(&t, "Errors", f).is_empty(),
            "{f}: Errors alarm"
        );
        assert!(
            !function_alarms(&t, "Throttles", f).is_empty(),
            "{f}: Throttles alarm"
        );
    }
    for f in ["ReconcilerFunction", "FxRefreshFunction"] {
        assert!(
            !function_alarms(&t, "Errors", f).is_empty(),
            "{f}: Errors alarm"
        );
    }
    let watched: BTreeSet<(String, String)> = alarms(&t)
        .iter()
        .flat_map(|(_, a)| alarm_metrics(a))
        .map(|(ns, m, _)| (ns, m))
        .collect();
    let must = [
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/DynamoDB", "SystemErrors"),
        ("Relier", "FxRateAgeSeconds"),
        ("Relier", "ProviderBalance"),
        ("Relier", "StuckTransactions"),
    ];
    for (ns, m) in must {
        assert!(
            watched.contains(&(ns.to_owned(), m.to_owned())),
            "no alarm on {ns}/{m}"
        );
    }
    // AND the schedule-failure queue's depth is watched
    let sched = alarms(&t).into_iter().any(|(_, a)| {
        alarm_metrics(a).iter().any(|(_, m, d)| {
            m == "ApproximateNumberOfMessagesVisible"
                && d.iter().any(|(_, v)| {
                    tagged_str(v, "GetAtt") == Some("ScheduleFailuresQueue.QueueName")
                })
        })
    });
    assert!(sched, "schedule-failures queue depth alarm");
    // AND the reconciler heartbeat and the rate age page when the data stops (missing = breaching)
    let breaching: Vec<String> = alarms(&t)
        .into_iter()
        .filter(|(_, a)| a["Properties"]["TreatMissingData"].as_str() == Some("breaching"))
        .flat_map(|(_, a)| alarm_metrics(a).into_iter().map(|(_, m, _)| m))
        .collect();
    assert!(
        breaching.contains(&"StuckTransactions".to_owned()),
        "heartbeat"
    );
    assert!(
        breaching.contains(&"FxRateAgeSeconds".to_owned()),
        "rate age"
    );
    // AND the latency alarm is a p99
    let p99 = alarms(&t).into_iter().any(|(_, a)| {
        a["Properties"]["MetricName"].as_str() == Some("Latency")
            && a["Properties"]["ExtendedStatistic"].as_str() == Some("p99")
    });
    assert!(p99, "API p99 latency alarm");
}

/// Every `Relier/<metric>` an alarm watches is emitted by the code (EMF, namespace Relier).
#[test]
fn every_custom_metric_alarm_watches_a_metric_the_code_emits() {
    // GIVEN all Rust sources of shared/ and functions/, whitespace removed (rustfmt may wrap)
    let mut code = String::new();
    for dir in ["shared/src", "functions"] {
        collect_rs(&repo().join(dir), &mut code);
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        code.contains("\"Namespace\":\"Relier\""),
        "telemetry emits EMF metrics in the Relier namespace"
    );
    let t = template();
    let mut seen = 0;
    for (id, a) in alarms(&t) {
        for (ns, m, dims) in alarm_metrics(a) {
            if ns != "Relier" {
                continue;
            }
            seen += 1;
            // THEN the code emits it, without dimensions (EMF "Dimensions": [[]])
            assert!(
                code.contains(&format!("emit_metric(\"{m}\"")),
                "{id} watches Relier/{m}, which no code emits"
            );
            assert!(
                dims.is_empty(),
                "{id}: EMF metrics are emitted without dimensions"
            );
        }
    }
    assert!(seen >= 4, "custom-metric alarms: {seen}");
}

fn collect_rs(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

// ------------------------------------------------------------------ production expectations

#[test]
fn money_functions_deploy_as_canaries_rolled_back_by_their_error_alarm() {
    let t = template();
    for f in MONEY_FUNCTIONS {
        let p = props(&t, f);
        // GIVEN a money function
        // THEN it publishes a "live" alias that CodeDeploy shifts gradually
        assert_eq!(p["AutoPublishAlias"].as_str(), Some("live"), "{f}");
        let pref = &p["DeploymentPreference"];
        assert_eq!(
            tagged_str(&pref["Type"], "Ref"),
            Some("MoneyDeploymentType"),
            "{f}"
        );
        // AND the rollback alarm watches the errors of that alias
        let rollback: Vec<&str> = pref["Alarms"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{f}: rollback alarms"))
            .iter()
            .filter_map(|a| tagged_str(a, "Ref"))
            .collect();
        let alias_errors: Vec<String> = function_alarms(&t, "Errors", f)
            .into_iter()
            .filter(|(_, a)| {
                alarm_metrics(a)[0].2.iter().any(|(k, v)| {
                    k == "Resource" && tagged_str(v, "Sub") == Some(&format!("${{{f}}}:live"))
                })
            })
            .map(|(id, _)| id)
            .collect();
        assert!(
            rollback.iter().any(|r| alias_errors.iter().any(|a| a == r)),
            "{f}: rollback alarms {rollback:?} vs alias error alarms {alias_errors:?}"
        );
    }
    // AND the default shift is a canary
    let default = t["Parameters"]["MoneyDeploymentType"]["Default"]
        .as_str()
        .unwrap();
    assert!(default.starts_with("Canary"), "{default}");
}

#[test]
fn runaway_concurrency_is_bounded_where_it_would_hurt() {
    let t = template();
    // THEN the API money functions reserve (= cap) their concurrency when ReserveConcurrency
    for f in [
        "TopupFunction",
        "TopupAsyncFunction",
        "DistributorPurchaseFunction",
    ] {
        let r = serde_yaml::to_string(&props(&t, f)["ReservedConcurrentExecutions"]).unwrap();
        assert!(
            r.contains("ReservesConcurrency") && r.contains("MoneyFunctionConcurrency"),
            "{f}: {r}"
        );
    }
    // AND the scheduled jobs run one at a time
    for f in ["ReconcilerFunction", "FxRefreshFunction"] {
        let r = serde_yaml::to_string(&props(&t, f)["ReservedConcurrentExecutions"]).unwrap();
        assert!(
            r.contains("ReservesConcurrency") && r.contains("- 1"),
            "{f}: {r}"
        );
    }
    // AND the worker is capped by its event source
    let max = &props(&t, "TopupWorkerFunction")["Events"]["TopupQueue"]["Properties"]
        ["ScalingConfig"]["MaximumConcurrency"];
    assert!(max.as_u64().is_some_and(|m| m >= 2));
    // AND the account-quota caveat is documented with the parameter
    let d = t["Parameters"]["ReserveConcurrency"]["Description"]
        .as_str()
        .unwrap();
    assert!(d.contains("quota") && d.contains("100 unreserved"), "{d}");
}

#[test]
fn tables_survive_a_stack_deletion_and_a_console_click() {
    let t = template();
    for id in ["AccountsTable", "TransactionsTable"] {
        let r = &t["Resources"][id];
        assert_eq!(r["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(r["UpdateReplacePolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(
            r["Properties"]["DeletionProtectionEnabled"].as_bool(),
            Some(true),
            "{id}"
        );
    }
}

#[test]
fn custom_domain_is_optional_and_maps_to_the_v1_stage() {
    let t = template();
    // GIVEN DomainName/CertificateArn default to empty (no custom domain)
    for p in ["DomainName", "CertificateArn"] {
        assert_eq!(t["Parameters"][p]["Default"].as_str(), Some(""), "{p}");
    }
    // THEN the domain resources exist only with a DomainName, and a Rule demands the certificate
    for id in ["PartnerApiDomain", "PartnerApiBasePathMapping"] {
        assert_eq!(
            t["Resources"][id]["Condition"].as_str(),
            Some("HasCustomDomain"),
            "{id}"
        );
    }
    let m = props(&t, "PartnerApiBasePathMapping");
    assert_eq!(tagged_str(&m["RestApiId"], "Ref"), Some("PartnerApi"));
    assert_eq!(tagged_str(&m["Stage"], "Ref"), Some("PartnerApi.Stage"));
    let rule = serde_yaml::to_string(&t["Rules"]["CustomDomainHasCertificate"]).unwrap();
    assert!(rule.contains("CertificateArn"), "{rule}");
}

/// `key = "value"` lines of one `[section]` of a TOML file (enough for samconfig.toml).
fn toml_section(text: &str, section: &str) -> Vec<(String, String)> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap().trim();
        if line.starts_with('[') {
            inside = line == header;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()));
            }
        }
    }
    out
}

#[test]
fn samconfig_environments_pass_the_template_rules() {
    let text = read("samconfig.toml");
    let t = template();
    for (env, mode, live) in [
        ("sandbox", "SANDBOX", false),
        ("production", "PRODUCTION", true),
    ] {
        // GIVEN the environment's deploy parameters
        let section = toml_section(&text, &format!("{env}.deploy.parameters"));
        let get = |k: &str| {
            section
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{env}: {k}"))
        };
        assert!(!get("stack_name").is_empty());
        let overrides: Vec<(String, String)> = get("parameter_overrides")
            .split_whitespace()
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        let param = |k: &str| {
            overrides
                .iter()
                .find(|(p, _)| p == k)
                .map(|(_, v)| v.as_str())
        };
        // THEN every override is a template parameter
        for (k, _) in &overrides {
            assert!(
                !t["Parameters"][k.as_str()].is_null(),
                "{env}: unknown parameter {k}"
            );
        }
        // AND it satisfies the Rules (production delivers for real, sandbox never does)
        assert_eq!(param("Mode"), Some(mode), "{env}");
        if live {
            assert_eq!(param("ReloadlyEnv"), Some("live"), "{env}");
            assert_eq!(param("TopupProvider"), Some("reloadly"), "{env}");
            assert_eq!(get("confirm_changeset"), "true", "{env}");
        } else {
            assert_eq!(param("ReloadlyEnv"), Some("sandbox"), "{env}");
        }
        // AND the alarm e-mail is left for the deployer to give (no silent default)
        assert!(param("AlarmEmail").is_none(), "{env}");
    }
}

// ------------------------------------------------------------------ docs

#[test]
fn readme_deploying_is_a_numbered_first_deploy_procedure() {
    let readme = read("README.md");
    let start = readme.find("## Deploying").expect("README: ## Deploying");
    let rest = &readme[start + 3..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    // THEN the steps appear in order: bootstrap, secrets, build + guided deploy, fx-refresh,
    // first partner, smoke check
    let steps = [
        "infra/bootstrap.yaml",
        "aws secretsmanager create-secret",
        "sam build",
        "sam deploy --guided",
        "aws lambda invoke",
        "relier-admin partner create",
        "infra/smoke-deployed.sh",
    ];
    let mut at = 0;
    for s in steps {
        let i = section[at..]
            .find(s)
            .unwrap_or_else(|| panic!("README Deploying: `{s}` missing or out of order"));
        at += i;
    }
    // AND they are numbered
    for n in 1..=7 {
        assert!(section.contains(&format!("\n{n}. ")), "step {n}");
    }
    // AND the post-deploy smoke script exists and runs the local smoke checks
    let smoke = read("infra/smoke-deployed.sh");
    assert!(smoke.contains("smoke.py"));
}

// ------------------------------------------------------------------ 1/4. secrets without a layer

#[test]
fn no_function_depends_on_a_region_pinned_layer() {
    let t = template();
    // THEN no function has Layers (secrets are read with the SDK, relier::adapters::secrets) and no
    // parameter defaults to a region-specific ARN
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        assert!(f["Properties"]["Layers"].is_null(), "{id} has Layers");
    }
    assert!(t["Globals"]["Function"]["Layers"].is_null());
    for (name, p) in t["Parameters"].as_mapping().unwrap() {
        let default = p["Default"].as_str().unwrap_or("");
        assert!(!default.starts_with("arn:"), "{name:?} defaults to an ARN");
    }
    // AND the functions that read a secret may call GetSecretValue on it
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        let env = serde_yaml::to_string(&t["Globals"]["Function"]["Environment"]).unwrap();
        let policies = serde_yaml::to_string(&f["Properties"]["Policies"]).unwrap();
        if policies.contains("secretsmanager:GetSecretValue") {
            assert!(env.contains("_SECRET_ID"), "{id}");
        }
    }
}

// ------------------------------------------------------------------ 6. reconciler budget

#[test]
fn the_reconciler_timeout_fits_its_budget_and_the_schedule() {
    use relier::jobs::reconciler::Budget;
    let t = template();
    let timeout = props(&t, "ReconcilerFunction")["Timeout"].as_u64().unwrap();
    // THEN at least one bounded provider call with its writes fits inside the margin...
    let one = (Budget::PER_CALL + Budget::WRITE_RESERVE + Budget::MARGIN).as_secs();
    assert!(timeout > one, "Timeout {timeout} <= {one}");
    // ...and a run ends before the next 5-minute tick
    assert!(timeout < 300, "Timeout {timeout}");
}
