//! HTML building blocks: escaping, number formats, the page layout, the sign-in page.
//! Every page links one stylesheet and one script by hashed name; no inline script or style.

use super::assets;
use super::i18n::Lang;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON number (or numeric string) as a decimal; None for null/absent.
pub fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

fn group(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// `10000` -> `10,000.00` (what the page script shows too).
pub fn usd(v: &Value) -> String {
    match dec(v) {
        Some(d) => {
            let s = format!("{:.2}", d.round_dp(2));
            let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
            format!("{}.{frac}", group(int))
        }
        None => "—".into(),
    }
}

/// `5000` -> `5,000`; fractions kept (at most 2 digits).
pub fn mxn(v: &Value) -> String {
    match dec(v) {
        Some(d) => {
            let s = d.round_dp(2).normalize().to_string();
            match s.split_once('.') {
                Some((int, frac)) => format!("{}.{frac}", group(int)),
                None => group(&s),
            }
        }
        None => "—".into(),
    }
}

/// A string field, or empty.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where the current page is, for the nav and the language switch.
pub struct Ctx<'a> {
    pub lang: Lang,
    /// `overview`, `transactions`, `charts`, `statement`, `webhooks`, `login`, `error`.
    pub page: &'a str,
    /// Path + query of this page (the language link points back to it).
    pub here: &'a str,
    /// Signed-in customer, if any.
    pub customer: Option<&'a str>,
}

fn lang_link(ctx: &Ctx) -> String {
    let (path, query) = ctx.here.split_once('?').unwrap_or((ctx.here, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    let mut q = kept.join("&");
    if !q.is_empty() {
        q.push('&');
    }
    let other = ctx.lang.other();
    format!(
        r#"<a id="lang-switch" href="{}?{}lang={}" lang="{}" hreflang="{}">{}</a>"#,
        esc(path),
        esc(&q),
        other.code(),
        other.code(),
        other.code(),
        ctx.lang.t("lang_name")
    )
}

pub fn layout(ctx: &Ctx, title: &str, body: &str) -> String {
    let t = |k: &str| -> &'static str { ctx.lang.t(k) };
    let nav = match ctx.customer {
        Some(customer) => {
            let item = |page: &str, href: &str, key: &str| {
                let current = if page == ctx.page {
                    r#" aria-current="page""#
                } else {
                    ""
                };
                format!(r#"<li><a href="{href}"{current}>{}</a></li>"#, t(key))
            };
            format!(
                r#"<nav class="main" aria-label="{}"><ul>{}{}{}{}{}</ul></nav><span class="who">{}</span><form method="post" action="/dashboard/logout"><button id="signout" type="submit">{}</button></form>"#,
                t("nav"),
                item("overview", "/dashboard/overview", "overview"),
                item("transactions", "/dashboard/transactions", "transactions"),
                item("charts", "/dashboard/charts", "charts"),
                item("statement", "/dashboard/statement", "statement"),
                item("webhooks", "/dashboard/webhooks", "webhooks"),
                esc(customer),
                t("signout"),
            )
        }
        None => String::new(),
    };
    format!(
        r##"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Relier</title>
<link rel="icon" href="{icon}" type="image/svg+xml">
<link rel="stylesheet" href="{css}">
<script src="{js}" defer></script>
</head>
<body data-page="{page}">
<a class="skip" href="#content">{skip}</a>
<header class="top"><span class="brand">Relier · {product}</span>{nav}{lang_link}</header>
<main id="content" tabindex="-1">
{body}
</main>
</body>
</html>
"##,
        lang = ctx.lang.code(),
        title = esc(title),
        icon = assets::url("favicon.svg"),
        css = assets::url("app.css"),
        js = assets::url("app.js"),
        page = ctx.page,
        skip = t("skip"),
        product = t("title"),
        lang_link = lang_link(ctx),
    )
}

/// The sign-in form; `failed` shows the one generic error.
pub fn login(lang: Lang, failed: bool, customer: &str) -> String {
    let t = |k: &str| -> &'static str { lang.t(k) };
    let error = if failed {
        format!(
            r#"<p id="login-error" class="error" role="alert">{}</p>"#,
            t("bad_credentials")
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<div class="login"><h1>{title}</h1><p>{intro}</p>{error}
<form method="post" action="/dashboard/login" autocomplete="off">
<div><label for="customer_id">{cid}</label><input id="customer_id" name="customer_id" required maxlength="64" value="{customer}" autocapitalize="characters" spellcheck="false"></div>
<div><label for="api_key">{key}</label><input id="api_key" name="api_key" type="password" required maxlength="256" autocomplete="current-password"></div>
<button id="signin" type="submit">{title}</button>
</form></div>"#,
        title = t("signin"),
        intro = t("signin_intro"),
        cid = t("customer_id"),
        key = t("api_key"),
        customer = esc(customer),
    );
    let ctx = Ctx {
        lang,
        page: "login",
        here: "/dashboard",
        customer: None,
    };
    layout(&ctx, t("signin"), &body)
}

pub fn message(ctx: &Ctx, title: &str, message: &str) -> String {
    layout(
        ctx,
        title,
        &format!(
            r#"<h1>{}</h1><p class="error" role="alert">{}</p>"#,
            esc(title),
            esc(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_formats() {
        assert_eq!(usd(&json!(10000)), "10,000.00");
        assert_eq!(usd(&json!(1.08)), "1.08");
        assert_eq!(usd(&json!(-1234567.5)), "-1,234,567.50");
        assert_eq!(mxn(&json!(5000)), "5,000");
        assert_eq!(mxn(&json!(20.5)), "20.5");
        assert_eq!(usd(&Value::Null), "—");
    }

    #[test]
    fn escaping_and_layout_have_no_inline_script() {
        // GIVEN a hostile customer name WHEN the sign-in page is rendered THEN it is escaped
        assert_eq!(
            esc(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        let page = login(Lang::En, true, "<script>");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(!page.contains("style="));
        assert!(page.contains(r#"id="login-error""#));
        assert!(page.contains("lang=es"));
    }
}
