//! The Webhooks page (issue 10's delivery log for the partner, read-only): the customer's
//! endpoint — never its signing secret, which only ops see, once — the latest deliveries and
//! the low-balance alert threshold. Ops change all of it with `relier-admin webhook …` and
//! `relier-admin partner set`.

use super::html::{esc, layout, text, usd, Ctx};
use crate::api::json::{money, timestamp};
use crate::api::partner::ApiError;
use crate::domain::Account;
use crate::ports::StoreError;
use crate::webhooks::{Delivery, Endpoint, WebhookReader};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// How many deliveries the page lists (newest first), as `relier-admin webhook deliveries`.
pub const DELIVERIES_SHOWN: i32 = 50;

fn unavailable(e: StoreError) -> ApiError {
    ApiError::ServiceUnavailable(e.to_string())
}

/// The endpoint as the partner may see it: no secret, not even a prefix.
pub fn endpoint_view(ep: &Endpoint) -> Value {
    let events = match &ep.events {
        None => json!("all"),
        Some(list) => json!(list.iter().map(|e| e.as_str()).collect::<Vec<_>>()),
    };
    json!({
        "url": ep.url,
        "events": events,
        "enabled": ep.disabled_reason.is_none(),
        "disabled_reason": ep.disabled_reason,
        "updated_at": timestamp(ep.updated_at),
        // Only that one exists; it was shown once to ops (`relier-admin webhook set`).
        "signing_secret": if ep.keys.is_empty() { "not set" } else { "set" },
    })
}

pub fn delivery_view(d: &Delivery) -> Value {
    json!({
        "event_id": d.event.id,
        "type": d.event.event_type.as_str(),
        "created_at": timestamp(d.event.created_at),
        "status": d.status.as_str(),
        "attempts": d.attempts,
        "last_result": d.last_result,
        "last_attempt_at": d.last_attempt_at.map(timestamp),
        "next_attempt_at": d.next_attempt_at.map(timestamp),
    })
}

/// `GET /api/dashboard/webhooks`: the session's customer's endpoint (or null), its latest
/// deliveries and the `balance.low` threshold in force (the account's, else the 1,000 USD
/// default — the one the alert uses, `Account::low_balance_threshold`).
pub async fn data(
    webhooks: &dyn WebhookReader,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let id = account.customer_id.as_str();
    let endpoint = webhooks.get_endpoint(id).await.map_err(unavailable)?;
    let deliveries = webhooks
        .list_deliveries(id, DELIVERIES_SHOWN)
        .await
        .map_err(unavailable)?;
    Ok(json!({
        "success": true,
        "endpoint": endpoint.as_ref().map(endpoint_view),
        "deliveries": deliveries.iter().map(delivery_view).collect::<Vec<_>>(),
        "deliveries_limit": DELIVERIES_SHOWN,
        "low_balance_threshold_usd": money(account.low_balance_threshold()),
        "low_balance_threshold_is_default": account.low_balance_usd.is_none(),
        "generated_at": timestamp(now),
    }))
}

fn endpoint_section(ctx: &Ctx, ep: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    if ep.is_null() {
        return format!(r#"<p id="wh-none" class="card">{}</p>"#, t("wh_none"));
    }
    let events = match &ep["events"] {
        Value::Array(list) => esc(&list.iter().map(text).collect::<Vec<_>>().join(", ")),
        _ => t("wh_all_events").to_owned(),
    };
    let state = if ep["enabled"] == json!(true) {
        format!(r#"<span class="st st-SUCCESS">{}</span>"#, t("wh_enabled"))
    } else {
        format!(
            r#"<span class="st st-FAILED">{}</span> — {}"#,
            t("wh_disabled"),
            esc(&text(&ep["disabled_reason"]))
        )
    };
    let rows = [
        (
            "wh_url",
            format!(r#"<code>{}</code>"#, esc(&text(&ep["url"]))),
        ),
        ("wh_events", events),
        ("wh_state", state),
        ("updated", esc(&text(&ep["updated_at"]))),
        ("wh_secret", t("wh_secret_note").to_owned()),
    ];
    let dl: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", t(k)))
        .collect();
    format!(r#"<dl class="detail" id="wh-endpoint">{dl}</dl>"#)
}

fn delivery_row(d: &Value) -> String {
    let st = text(&d["status"]);
    let opt = |k: &str| match &d[k] {
        Value::Null => "—".to_owned(),
        v => esc(&text(v)),
    };
    format!(
        r#"<tr data-id="{id}"><td><code>{id}</code></td><td>{ty}</td><td>{at}</td><td class="st st-{st}">{st}</td><td class="num">{n}</td><td class="res">{last}</td><td>{next}</td></tr>"#,
        id = esc(&text(&d["event_id"])),
        ty = esc(&text(&d["type"])),
        at = esc(&text(&d["created_at"])),
        st = esc(&st),
        n = esc(&text(&d["attempts"])),
        last = opt("last_result"),
        next = opt("next_attempt_at"),
    )
}

pub fn page(ctx: &Ctx, d: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let rows: Vec<String> = d["deliveries"]
        .as_array()
        .map(|a| a.iter().map(delivery_row).collect())
        .unwrap_or_default();
    let threshold = match (
        &d["low_balance_threshold_usd"],
        &d["low_balance_threshold_is_default"],
    ) {
        (Value::Null, _) => t("not_set").to_owned(),
        (v, Value::Bool(true)) => format!("{} USD ({})", usd(v), t("wh_default")),
        (v, _) => format!("{} USD", usd(v)),
    };
    let body = format!(
        r#"<h1>{title}</h1>
<h2 id="h-endpoint">{ep_h}</h2>{endpoint}
<p>{low}: <span id="low-threshold">{threshold}</span></p><p class="muted">{how}</p>
<h2 id="h-deliveries">{del_h}</h2><p class="muted">{del_note}</p>
<div class="table-wrap"><table id="wh-deliveries" aria-labelledby="h-deliveries"><thead><tr><th scope="col">{id}</th><th scope="col">{ty}</th><th scope="col">{created}</th><th scope="col">{status}</th><th scope="col" class="num">{attempts}</th><th scope="col">{last}</th><th scope="col">{next}</th></tr></thead>
<tbody id="wh-body">{rows}</tbody></table></div>
<p id="wh-empty"{hidden}>{none}</p>"#,
        title = t("webhooks"),
        ep_h = t("wh_endpoint"),
        endpoint = endpoint_section(ctx, &d["endpoint"]),
        low = t("wh_low_alert"),
        how = t("wh_ops_note"),
        del_h = t("wh_deliveries"),
        del_note = t("wh_deliveries_note"),
        id = t("wh_event_id"),
        ty = t("wh_type"),
        created = t("created"),
        status = t("status"),
        attempts = t("wh_attempts"),
        last = t("wh_last_result"),
        next = t("wh_next_attempt"),
        rows = rows.join(""),
        hidden = if rows.is_empty() { "" } else { " hidden" },
        none = t("wh_no_deliveries"),
    );
    layout(ctx, t("webhooks"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dashboard::i18n::Lang;
    use crate::webhooks::{DeliveryStatus, EventType, OutboxEvent};
    use chrono::TimeZone;

    fn ctx(lang: Lang) -> Ctx<'static> {
        Ctx {
            lang,
            page: "webhooks",
            here: "/dashboard/webhooks",
            customer: Some("HAZ_001"),
        }
    }

    #[test]
    fn the_endpoint_view_never_carries_the_secret_and_hostile_text_is_escaped() {
        // GIVEN an endpoint with a hostile URL, disabled with a hostile reason, and a delivery
        // whose last result came from outside
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (mut ep, secret) = Endpoint::new(
            "HAZ_001",
            r#"https://x.example/"><script>1</script>"#,
            None,
            t0,
        );
        ep.disabled_reason = Some("410 Gone <b>".into());
        let delivery = Delivery {
            event: OutboxEvent {
                id: "msg_1".into(),
                customer_id: "HAZ_001".into(),
                event_type: EventType::TopupFailed,
                body: "{}".into(),
                created_at: t0,
            },
            status: DeliveryStatus::Failed,
            attempts: 8,
            last_result: Some("<img src=x onerror=alert(1)>".into()),
            last_attempt_at: Some(t0),
            next_attempt_at: None,
        };
        let d = json!({
            "endpoint": endpoint_view(&ep),
            "deliveries": [delivery_view(&delivery)],
            "low_balance_threshold_usd": 1000,
        });
        // WHEN rendered in both languages
        for lang in [Lang::En, Lang::Es] {
            let html = page(&ctx(lang), &d);
            // THEN no secret, no raw markup from outside, and the state says why
            assert!(!html.contains(&secret.expose()) && !html.contains("whsec_"));
            assert!(!html.contains("<script>1") && !html.contains("<img") && !html.contains("<b>"));
            assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
            assert!(html.contains("410 Gone &lt;b&gt;"));
            assert!(html.contains(r#"id="wh-endpoint""#) && !html.contains(r#"id="wh-none""#));
            assert!(html.contains("1,000.00 USD"));
        }
        assert_eq!(d["endpoint"]["events"], json!("all"));
        assert_eq!(d["endpoint"]["enabled"], json!(false));
        assert!(!d.to_string().contains("whsec_"));
    }

    #[test]
    fn without_an_endpoint_the_page_says_to_ask_ops() {
        let d = json!({"endpoint": null, "deliveries": [], "low_balance_threshold_usd": null});
        let html = page(&ctx(Lang::En), &d);
        assert!(html.contains(r#"id="wh-none""#));
        assert!(html.contains(Lang::En.t("wh_none")));
        assert!(html.contains(r#"<p id="wh-empty">"#));
        assert!(html.contains(r#"aria-current="page""#));
    }
}
