// Relier partner dashboard: refreshes the balance and the first page of transactions from
// /api/dashboard/... (same origin, session cookie). No other script, no inline code.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");

  function usd(v) {
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function mxn(v) {
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: 2 });
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/dashboard"); throw new Error("signed out"); }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      });
  }
  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) { el.textContent = text; }
    return el;
  }

  function refreshOverview() {
    getJson("/api/dashboard/overview").then(function (d) {
      var el = setText("balance", usd(d.balance.current_balance));
      if (el) { el.setAttribute("data-value", String(d.balance.current_balance)); }
      setText("used-today", mxn(d.today.used_mxn));
      var meter = document.getElementById("used-meter");
      if (meter) { meter.value = Number(d.today.used_mxn); }
      if (d.last_24h.success_rate_percent !== null) {
        setText("success-rate", d.last_24h.success_rate_percent + " %");
      }
      setText("refreshed-at", new Date().toLocaleTimeString());
    }).catch(function () { /* keep the last values; try again later */ });
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    return td;
  }
  function row(t) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-id", t.id);
    tr.appendChild(cell(t.created_at));
    var idCell = document.createElement("td");
    var a = document.createElement("a");
    a.href = "/dashboard/transactions/" + encodeURIComponent(t.id);
    a.textContent = t.id;
    idCell.appendChild(a);
    tr.appendChild(idCell);
    tr.appendChild(cell(t.phone));
    tr.appendChild(cell(t.reference === null ? "" : t.reference));
    tr.appendChild(cell(mxn(t.amount_mxn), "num"));
    tr.appendChild(cell(usd(t.amount_usd), "num"));
    tr.appendChild(cell(t.status, "st st-" + t.status));
    return tr;
  }
  function refreshTransactions() {
    var params = new URLSearchParams(window.location.search);
    if (params.get("cursor")) { return; } // later pages stay as they were loaded
    getJson("/api/dashboard/transactions" + window.location.search).then(function (d) {
      var body = document.getElementById("tx-body");
      if (!body) { return; }
      var ids = Array.prototype.map.call(body.querySelectorAll("tr[data-id]"), function (tr) {
        return tr.getAttribute("data-id");
      }).join(",");
      var fresh = d.transactions.map(function (t) { return t.id; }).join(",");
      var changed = ids !== fresh || d.transactions.some(function (t) {
        var tr = body.querySelector('tr[data-id="' + t.id + '"] td.st');
        return !tr || tr.textContent !== t.status;
      });
      if (!changed) { return; }
      var rows = document.createDocumentFragment();
      d.transactions.forEach(function (t) { rows.appendChild(row(t)); });
      body.replaceChildren(rows);
      var empty = document.getElementById("tx-empty");
      if (empty) { empty.hidden = d.transactions.length > 0; }
    }).catch(function () { /* try again on the next tick */ });
  }

  if (page === "overview") {
    window.setInterval(refreshOverview, 10000);
  } else if (page === "transactions") {
    window.setInterval(refreshTransactions, 2000);
  }
})();
