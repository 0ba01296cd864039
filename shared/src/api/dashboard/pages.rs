//! The signed-in pages, rendered from the same JSON the `/api/dashboard/…` endpoints return.

use super::charts::{self, DayStats};
use super::data::Listing;
use super::html::{esc, layout, mxn, text, usd, Ctx};
use super::web::query_string;
use serde_json::Value;

fn card(key: &str, id: &str, value: &str, sub: &str) -> String {
    format!(
        r#"<div class="card"><p class="k">{key}</p><p class="v" id="{id}">{value}</p><p class="s">{sub}</p></div>"#
    )
}

pub fn overview(ctx: &Ctx, d: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let b = &d["balance"];
    let today = &d["today"];
    let balance = format!(
        r#"<div class="card"><p class="k">{k} (USD)</p><p class="v"><span id="balance" data-value="{raw}" aria-live="polite">{v}</span></p><p class="s">{cl}: {limit} · {upd}: <span id="refreshed-at">{at}</span></p></div>"#,
        k = t("balance"),
        raw = esc(&text(&b["current_balance"])),
        v = usd(&b["current_balance"]),
        cl = t("credit_limit"),
        limit = usd(&b["credit_limit"]),
        upd = t("updated"),
        at = esc(&text(&d["generated_at"])),
    );
    let used = match &today["daily_limit_mxn"] {
        Value::Null => card(
            t("today_used"),
            "used-today",
            &mxn(&today["used_mxn"]),
            t("no_limit"),
        ),
        limit => format!(
            r#"<div class="card"><p class="k">{k}</p><p class="v"><span id="used-today">{u}</span> / {l}</p><meter id="used-meter" min="0" max="{lraw}" value="{uraw}" aria-label="{k}"></meter><p class="s">{of} ({date})</p></div>"#,
            k = t("today_used"),
            u = mxn(&today["used_mxn"]),
            l = mxn(limit),
            lraw = esc(&text(limit)),
            uraw = esc(&text(&today["used_mxn"])),
            of = t("of_limit"),
            date = esc(&text(&today["date"])),
        ),
    };
    let per_phone = match &today["daily_limit_per_phone_mxn"] {
        Value::Null => String::new(),
        v => format!(r#"<p class="s">{}: {} MXN</p>"#, t("per_phone"), mxn(v)),
    };
    let threshold = match (
        &d["low_balance_threshold_usd"],
        &d["low_balance_threshold_is_default"],
    ) {
        (Value::Null, _) => t("not_set").to_owned(),
        (v, Value::Bool(true)) => format!("{} USD ({})", usd(v), t("wh_default")),
        (v, _) => format!("{} USD", usd(v)),
    };
    let h = &d["last_24h"];
    let rate = match &h["success_rate_percent"] {
        Value::Null => t("no_data").to_owned(),
        v => format!("{} %", text(v)),
    };
    let body = format!(
        r#"<h1>{title}</h1><p class="muted">{company} · {cid}</p><div class="cards">{balance}{used}{low}{succ}</div>{per_phone}"#,
        title = t("overview"),
        company = esc(&text(&b["company_name"])),
        cid = esc(&text(&b["customer_id"])),
        low = card(t("low_threshold"), "low-threshold", &esc(&threshold), ""),
        succ = card(
            t("success_24h"),
            "success-rate",
            &esc(&rate),
            &format!(
                "{} {} · {} ✓ · {} ✗",
                text(&h["success"]).parse::<u64>().unwrap_or(0)
                    + text(&h["failed"]).parse::<u64>().unwrap_or(0),
                t("finished"),
                text(&h["success"]),
                text(&h["failed"])
            ),
        ),
    );
    layout(ctx, t("overview"), &body)
}

fn tx_row(tx: &Value) -> String {
    let id = text(&tx["id"]);
    let st = text(&tx["status"]);
    format!(
        r#"<tr data-id="{id}"><td>{at}</td><td><a href="/dashboard/transactions/{id}">{id}</a></td><td>{phone}</td><td>{rf}</td><td class="num">{m}</td><td class="num">{u}</td><td class="st st-{st}">{st}</td></tr>"#,
        id = esc(&id),
        at = esc(&text(&tx["created_at"])),
        phone = esc(&text(&tx["phone"])),
        rf = esc(&text(&tx["reference"])),
        m = mxn(&tx["amount_mxn"]),
        u = usd(&tx["amount_usd"]),
        st = esc(&st),
    )
}

/// The filter values as query pairs (for links: CSV, next page).
pub fn listing_pairs(q: &Listing) -> Vec<(&'static str, String)> {
    vec![
        ("date_from", q.range.from.format("%Y-%m-%d").to_string()),
        ("date_to", q.range.to.format("%Y-%m-%d").to_string()),
        ("status", q.status.clone().unwrap_or_default()),
        ("phone", q.filter.phone.clone().unwrap_or_default()),
        ("reference", q.filter.reference.clone().unwrap_or_default()),
        ("limit", q.limit.to_string()),
    ]
}

pub fn transactions(ctx: &Ctx, q: &Listing, d: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let pairs = listing_pairs(q);
    let as_refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let opt = |v: &str, label: &str| {
        let sel = if q.status.as_deref() == Some(v) || (v.is_empty() && q.status.is_none()) {
            " selected"
        } else {
            ""
        };
        format!(r#"<option value="{v}"{sel}>{label}</option>"#)
    };
    let input = |id: &str, key: &str, kind: &str, value: &str, extra: &str| {
        format!(
            r#"<div><label for="{id}">{}</label><input id="{id}" name="{id}" type="{kind}" value="{}"{extra}></div>"#,
            t(key),
            esc(value)
        )
    };
    let rows: Vec<String> = d["transactions"]
        .as_array()
        .map(|a| a.iter().map(tx_row).collect())
        .unwrap_or_default();
    let empty = rows.is_empty();
    let mut pager = String::new();
    if q.cursor.is_some() {
        pager.push_str(&format!(
            r#"<a id="first-page" href="/dashboard/transactions{}">{}</a>"#,
            esc(&query_string(&as_refs)),
            t("first_page")
        ));
    }
    if let Some(next) = d["next_cursor"].as_str() {
        let mut with = as_refs.clone();
        with.push(("cursor", next));
        pager.push_str(&format!(
            r#"<a id="next-page" rel="next" href="/dashboard/transactions{}">{}</a>"#,
            esc(&query_string(&with)),
            t("next_page")
        ));
    }
    let body = format!(
        r#"<h1>{title}</h1>
<form class="filters" method="get" action="/dashboard/transactions" aria-label="{filters}">
{from}{to}
<div><label for="status">{status}</label><select id="status" name="status">{o0}{o1}{o2}{o3}</select></div>
{phone}{reference}{limit}
<div><button id="apply" type="submit">{apply}</button></div>
</form>
<div class="actions"><a id="csv" href="/dashboard/export.csv{qs}" download>{csv}</a>{pager}</div>
<div class="table-wrap"><table id="tx-table"><caption class="muted">{title}</caption>
<thead><tr><th scope="col">{date}</th><th scope="col">{id}</th><th scope="col">{phone_h}</th><th scope="col">{ref_h}</th><th scope="col" class="num">{amxn}</th><th scope="col" class="num">{ausd}</th><th scope="col">{status}</th></tr></thead>
<tbody id="tx-body" aria-live="polite">{rows}</tbody></table></div>
<p id="tx-empty"{hidden}>{none}</p>"#,
        title = t("transactions"),
        filters = t("filters"),
        from = input("date_from", "date_from", "date", &pairs[0].1, ""),
        to = input("date_to", "date_to", "date", &pairs[1].1, ""),
        status = t("status"),
        o0 = opt("", t("any")),
        o1 = opt("SUCCESS", "SUCCESS"),
        o2 = opt("FAILED", "FAILED"),
        o3 = opt("PENDING", "PENDING"),
        phone = input(
            "phone",
            "phone",
            "text",
            &pairs[3].1,
            r#" inputmode="numeric" maxlength="10""#
        ),
        reference = input(
            "reference",
            "reference",
            "text",
            &pairs[4].1,
            r#" maxlength="128""#
        ),
        limit = input(
            "limit",
            "per_page",
            "number",
            &pairs[5].1,
            r#" min="1" max="100""#
        ),
        apply = t("apply"),
        qs = esc(&query_string(&as_refs)),
        csv = t("download_csv"),
        date = t("date"),
        id = t("id"),
        phone_h = t("phone"),
        ref_h = t("reference"),
        amxn = t("amount_mxn"),
        ausd = t("amount_usd"),
        rows = rows.join(""),
        hidden = if empty { "" } else { " hidden" },
        none = t("none"),
    );
    layout(ctx, t("transactions"), &body)
}

pub fn detail(ctx: &Ctx, tx: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let rows: Vec<(&str, String)> = vec![
        ("id", esc(&text(&tx["id"]))),
        (
            "status",
            format!(
                r#"<span class="st st-{0}">{0}</span>"#,
                esc(&text(&tx["status"]))
            ),
        ),
        ("phone", esc(&text(&tx["phone"]))),
        ("reference", esc(&text(&tx["reference"]))),
        ("amount_mxn", mxn(&tx["amount_mxn"])),
        ("amount_usd", usd(&tx["amount_usd"])),
        ("exchange_rate", esc(&text(&tx["exchange_rate"]))),
        (
            "balance_before",
            format!(
                r#"<span id="balance-before">{}</span>"#,
                usd(&tx["balance_before_usd"])
            ),
        ),
        (
            "balance_after",
            format!(
                r#"<span id="balance-after">{}</span>"#,
                usd(&tx["balance_after_usd"])
            ),
        ),
        ("operator_id", esc(&text(&tx["operator_transaction_id"]))),
        ("provider", esc(&text(&tx["provider"]))),
        ("response_ms", esc(&text(&tx["response_time_ms"]))),
        ("created", esc(&text(&tx["created_at"]))),
        ("processed", esc(&text(&tx["processed_at"]))),
    ];
    let mut dl: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", t(k)))
        .collect();
    if let Some(err) = tx["error"].as_str() {
        dl.push_str(&format!("<dt>{}</dt><dd>{}</dd>", t("error"), esc(err)));
    }
    let body = format!(
        r#"<h1>{}</h1><dl class="detail" id="tx-detail" data-id="{}">{dl}</dl><p><a href="/dashboard/transactions">{}</a></p>"#,
        t("detail"),
        esc(&text(&tx["id"])),
        t("back"),
    );
    layout(ctx, t("detail"), &body)
}

pub fn charts_page(ctx: &Ctx, days: &[DayStats], truncated: bool) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let note = if truncated {
        format!(r#"<p class="muted">{}</p>"#, t("truncated"))
    } else {
        String::new()
    };
    let body = format!(
        r#"<h1>{title}</h1><p class="muted">{range}</p>{note}
<h2 id="h-mxn">{vm}</h2>{c1}
<h2 id="h-usd">{vu}</h2>{c2}
<h2 id="h-out">{oc}</h2><p class="legend"><span><span class="sw ok"></span>{ok}</span><span><span class="sw ko"></span>{ko}</span></p>{c3}
<h2 id="h-lat">{lt}</h2><p class="legend"><span><span class="sw p50"></span>p50</span><span><span class="sw p95"></span>p95</span></p>{c4}"#,
        title = t("charts"),
        range = t("last_30"),
        vm = t("volume_mxn"),
        vu = t("volume_usd"),
        oc = t("outcomes"),
        lt = t("latency"),
        ok = t("legend_ok"),
        ko = t("legend_ko"),
        c1 = charts::bars("chart-volume-mxn", t("volume_mxn"), days, |d| d.mxn),
        c2 = charts::bars("chart-volume-usd", t("volume_usd"), days, |d| d.usd),
        c3 = charts::outcomes("chart-outcomes", t("outcomes"), days),
        c4 = charts::latency("chart-latency", t("latency"), days),
    );
    layout(ctx, t("charts"), &body)
}

pub fn statement(ctx: &Ctx, d: &Value) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let lines: Vec<String> = d["lines"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    let tx = text(&l["transaction_id"]);
                    let link = if tx.starts_with("RLR") {
                        format!(r#"<a href="/dashboard/transactions/{0}">{0}</a>"#, esc(&tx))
                    } else {
                        esc(&tx)
                    };
                    format!(
                        r#"<tr><td>{at}</td><td>{kind}</td><td>{link}</td><td>{rf}</td><td class="num">{amt}</td><td class="num">{ba}</td></tr>"#,
                        at = esc(&text(&l["at"])),
                        kind = esc(&text(&l["kind"])),
                        rf = esc(&text(&l["reference"])),
                        amt = usd(&l["amount_usd"]),
                        ba = usd(&l["balance_after_usd"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let none = if lines.is_empty() {
        format!("<p>{}</p>", t("no_lines"))
    } else {
        String::new()
    };
    let body = format!(
        r#"<h1>{title}</h1>
<form class="filters" method="get" action="/dashboard/statement">
<div><label for="date_from">{from}</label><input id="date_from" name="date_from" type="date" value="{f}"></div>
<div><label for="date_to">{to}</label><input id="date_to" name="date_to" type="date" value="{tt}"></div>
<div><button type="submit">{show}</button></div></form>
<div class="cards">{open}{debits}{credits}{close}</div>
<div class="table-wrap"><table id="statement-table"><caption class="muted">{title} (USD)</caption><thead><tr><th scope="col">{date}</th><th scope="col">{kind}</th><th scope="col">{id}</th><th scope="col">{rf}</th><th scope="col" class="num">USD</th><th scope="col" class="num">{ba}</th></tr></thead><tbody>{rows}</tbody></table></div>{none}{more}"#,
        title = t("statement"),
        from = t("date_from"),
        to = t("date_to"),
        f = esc(&text(&d["date_from"])),
        tt = esc(&text(&d["date_to"])),
        show = t("show"),
        open = card(
            t("opening"),
            "opening",
            &usd(&d["opening_balance_usd"]),
            "USD"
        ),
        debits = card(t("debits"), "debits", &usd(&d["total_debits_usd"]), "USD"),
        credits = card(
            t("credits"),
            "credits",
            &usd(&d["total_credits_usd"]),
            "USD"
        ),
        close = card(
            t("closing"),
            "closing",
            &usd(&d["closing_balance_usd"]),
            "USD"
        ),
        date = t("date"),
        kind = t("kind"),
        id = t("id"),
        rf = t("reference"),
        ba = t("balance_after"),
        rows = lines.join(""),
        more = match d["next_cursor"].as_str() {
            Some(c) => format!(
                r#"<p><a id="statement-next" href="/dashboard/statement{}">{}</a></p>"#,
                esc(&query_string(&[
                    ("date_from", &text(&d["date_from"])),
                    ("date_to", &text(&d["date_to"])),
                    ("cursor", c)
                ])),
                t("next_page")
            ),
            None => String::new(),
        },
    );
    layout(ctx, t("statement"), &body)
}
