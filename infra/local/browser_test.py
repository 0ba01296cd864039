#!/usr/bin/env python3
"""The partner dashboard in a real browser (headless Chromium through chromedriver).

Usage: browser_test.py BASE_URL SCREENSHOT_DIR   (make test runs it against make dev)

Checks what issue 11 asks: wrong key -> error and no cookie; sign in as HAZ_001 -> the balance
shown equals GET /api/balance; a top-up made through the API appears in the table within 5 s;
filters and pagination; the daily volume chart has one bar per day; another customer's
transaction id in the URL is not shown; the Webhooks page (endpoint or "none configured", the
latest deliveries, never a secret); sign-out then back -> sign-in page. Screenshots of
every page at desktop and phone width go to SCREENSHOT_DIR. Ends with `browser: N passed`.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
from decimal import Decimal

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:9000"
SHOTS = sys.argv[2] if len(sys.argv) > 2 else "target/dashboard-screenshots"
HAZ = ("HAZ_001", "haz_prod_2025")
SMARTBIZ = ("SMARTBIZ_001", "smartbiz_prod_7d086ce74101615476169835689efbcd")
DESKTOP = (1280, 900)
PHONE = (390, 844)

passed = 0


def check(name, ok, detail=""):
    global passed
    if not ok:
        print(f"browser: FAIL {name} {detail}", flush=True)
        raise SystemExit(1)
    passed += 1
    print(f"browser: ok   {name}", flush=True)


def api(method, path, creds=None, body=None):
    headers = {"Content-Type": "application/json"}
    if creds:
        headers.update({"x-customer-id": creds[0], "x-api-key": creds[1]})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def topup(creds, phone, amount=10):
    ref = "BROWSER-" + uuid.uuid4().hex[:12]
    status, body = api("POST", "/api/enviadespensa/topup", creds,
                       {"phone": phone, "amount": amount, "reference": ref})
    assert status in (200, 202, 500), (status, body)
    return body["transaction"]["id"], ref


def wait_for(driver, cond, timeout=10):
    return WebDriverWait(driver, timeout, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: cond(d))


def shoot(driver, name):
    """Screenshot at desktop and phone width (the page is reloaded at each width)."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        driver.set_window_size(*size)
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}-{label}.png"))
    driver.set_window_size(*DESKTOP)


def session_cookie(driver):
    return [c for c in driver.get_cookies() if "relier_session" in c["name"]]


def data_ids(driver, selector):
    """The data-id of every row matching `selector`, read in one script call: the transactions
    page re-renders its table every 2 s, so element handles can go stale between two reads."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(r => r.getAttribute('data-id'))",
        selector)


def rows(driver):
    return data_ids(driver, "#tx-body tr[data-id]")


def sign_in(driver, customer, key):
    driver.get(BASE + "/dashboard")
    driver.find_element(By.ID, "customer_id").clear()
    driver.find_element(By.ID, "customer_id").send_keys(customer)
    driver.find_element(By.ID, "api_key").send_keys(key)
    driver.find_element(By.ID, "signin").click()


def main():
    os.makedirs(SHOTS, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="relier-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--lang=en-US",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        opts.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    started = time.time()
    try:
        run(driver)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"browser: {passed} passed ({time.time() - started:.0f}s, screenshots in {SHOTS})")


def run(driver):
    # Data to look at: two successes and a failure for HAZ, one top-up of SmartBiz.
    haz_ok, _ = topup(HAZ, "5566374683")
    haz_failed, _ = topup(HAZ, "5500000001")
    haz_ok2, haz_ref2 = topup(HAZ, "5566374684")
    other_tx, _ = topup(SMARTBIZ, "5537686660")

    driver.get(BASE + "/dashboard")
    check("GET /dashboard is the sign-in page", driver.find_elements(By.ID, "api_key") != [])
    shoot(driver, "01-sign-in")

    sign_in(driver, "HAZ_001", "not-the-key")
    err = wait_for(driver, lambda d: d.find_elements(By.ID, "login-error"))
    check("wrong key shows an error", err[0].is_displayed() and err[0].text.strip() != "")
    check("wrong key sets no session cookie", session_cookie(driver) == [])
    shoot(driver, "02-sign-in-error")

    sign_in(driver, *HAZ)
    wait_for(driver, lambda d: d.current_url.endswith("/dashboard/overview"))
    cookie = session_cookie(driver)
    check("sign-in sets an HttpOnly SameSite=Strict cookie",
          len(cookie) == 1 and cookie[0]["httpOnly"] and cookie[0].get("sameSite") == "Strict", cookie)
    _, bal = api("GET", "/api/balance", HAZ)
    shown = driver.find_element(By.ID, "balance")
    check("balance shown equals GET /api/balance",
          Decimal(shown.get_attribute("data-value")) == Decimal(str(bal["current_balance"]))
          and Decimal(shown.text.replace(",", "")) == Decimal(str(bal["current_balance"])).quantize(Decimal("0.01")),
          (shown.text, bal))
    shoot(driver, "03-overview")

    driver.get(BASE + "/dashboard/transactions")
    before = rows(driver)
    check("the table lists the customer's top-ups", haz_ok2 in before and haz_ok in before)
    check("another customer's top-up is not listed", other_tx not in before)
    new_tx, _ = topup(HAZ, "5566374685")
    t0 = time.time()
    wait_for(driver, lambda d: new_tx in rows(d), timeout=5)
    check(f"a top-up made through the API appears within 5 s ({time.time() - t0:.1f}s)", True)
    shoot(driver, "04-transactions")

    Select(driver.find_element(By.ID, "status")).select_by_value("FAILED")
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "status=FAILED" in d.current_url)
    statuses = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#tx-body td.st")]
    check("status filter shows only FAILED", statuses and set(statuses) == {"FAILED"} and haz_failed in rows(driver), statuses)

    driver.get(BASE + "/dashboard/transactions")
    driver.find_element(By.ID, "reference").send_keys(haz_ref2)
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "reference=" in d.current_url)
    check("reference filter finds exactly that top-up", rows(driver) == [haz_ok2], rows(driver))

    driver.get(BASE + "/dashboard/transactions?limit=2")
    first = rows(driver)
    nxt = driver.find_elements(By.ID, "next-page")
    check("page 1 has 2 rows and a next link", len(first) == 2 and len(nxt) == 1, first)
    nxt[0].click()
    wait_for(driver, lambda d: "cursor=" in d.current_url)
    second = rows(driver)
    check("page 2 continues without repeating", len(second) >= 1 and not set(first) & set(second), (first, second))
    csv_href = driver.find_element(By.ID, "csv").get_attribute("href")
    check("CSV link carries the current filter", "/dashboard/export.csv?" in csv_href and "limit=2" in csv_href, csv_href)

    driver.get(BASE + f"/dashboard/transactions/{haz_ok}")
    detail = driver.find_elements(By.ID, "tx-detail")
    check("detail view shows the transaction with balance before/after",
          detail and detail[0].get_attribute("data-id") == haz_ok
          and driver.find_element(By.ID, "balance-before").text not in ("", "—"))
    shoot(driver, "05-detail")

    driver.get(BASE + f"/dashboard/transactions/{other_tx}")
    check("another customer's transaction id is not shown",
          driver.find_elements(By.ID, "tx-detail") == [] and "5537686660" not in driver.page_source)

    driver.get(BASE + "/dashboard/charts")
    bars = driver.find_elements(By.CSS_SELECTOR, "#chart-volume-mxn rect.bar")
    dates = {b.get_attribute("data-date") for b in bars}
    check("daily volume chart has one bar per day (30)", len(bars) == 30 and len(dates) == 30, len(bars))
    check("today's bar is not empty", float(bars[-1].get_attribute("data-value")) > 0)
    shoot(driver, "06-charts")

    driver.get(BASE + "/dashboard/statement")
    check("statement shows opening and closing balances",
          driver.find_element(By.ID, "opening").text != "" and driver.find_element(By.ID, "closing").text != "")
    shoot(driver, "07-statement")

    driver.find_element(By.CSS_SELECTOR, 'nav.main a[href="/dashboard/webhooks"]').click()
    wait_for(driver, lambda d: d.current_url.endswith("/dashboard/webhooks"))
    endpoint = driver.find_elements(By.ID, "wh-endpoint")
    none = driver.find_elements(By.ID, "wh-none")
    check("webhooks page (from the nav) shows the endpoint or 'none configured'",
          len(endpoint) + len(none) == 1 and (endpoint or none)[0].text.strip() != "")
    events = data_ids(driver, "#wh-body tr[data-id]")
    check("webhooks page lists this test's top-up events (every outcome writes one)",
          len(events) >= 4 and all(e.startswith("msg_") for e in events), events)
    check("webhooks page never shows a signing secret", "whsec_" not in driver.page_source)
    shoot(driver, "08-webhooks")

    driver.find_element(By.ID, "lang-switch").click()
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es")
    check("language switch to Spanish", "Estado de cuenta" in driver.page_source)
    driver.get(BASE + "/dashboard/overview")
    check("the language choice sticks", driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es")
    shoot(driver, "09-overview-es")
    driver.find_element(By.ID, "lang-switch").click()

    driver.get(BASE + "/dashboard/overview")
    driver.find_element(By.ID, "signout").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "api_key"))
    check("sign-out shows the sign-in page and drops the cookie", session_cookie(driver) == [])
    driver.back()
    wait_for(driver, lambda d: d.find_elements(By.ID, "api_key") or d.find_elements(By.ID, "balance"))
    check("back after sign-out shows the sign-in page", driver.find_elements(By.ID, "api_key") != []
          and driver.find_elements(By.ID, "balance") == [])


if __name__ == "__main__":
    main()
