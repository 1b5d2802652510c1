// One object per page: `render(main, store, actions)` builds the page once, then updates what changed.
// Tables are replaced only when their content changed; the open-orders table is keyed by order id so a
// row (and its Cancel button) stays the same element while the order lives.

const esc = (t) => String(t ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const time = (ns) => (ns ? new Date(ns / 1e6).toISOString().slice(11, 23) : "");
const fmt = (v) => (v === null || v === undefined ? "–" : v);

function mount(main, name, html) {
  if (main.dataset.page === name) return false;
  main.dataset.page = name;
  main.innerHTML = html;
  return true;
}

function fill(el, html) {
  if (el && el.__html !== html) { el.innerHTML = html; el.__html = html; }
}

function table(head, rows) {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function chart(el, title, names, colors, points) {
  const series = [{}].concat(names.map((n, i) => ({
    label: n, stroke: colors[i], width: 1.5, spanGaps: !points?.[i],
    points: points?.[i] ? { show: true, size: 8, fill: colors[i] } : { show: false },
    paths: points?.[i] ? () => null : undefined,
  })));
  return new uPlot({ title, width: Math.max(300, el.clientWidth - 10), height: 260, series,
    scales: { x: { time: true } }, axes: [{ stroke: "#94a3b8" }, { stroke: "#94a3b8", size: 70 }] },
  [[]].concat(names.map(() => [])), el);
}

function columns(rows, n) {
  const out = Array.from({ length: n }, () => []);
  for (const r of rows) for (let i = 0; i < n; i++) out[i].push(r[i]);
  return out;
}

const kpis = (pnl) => !pnl ? "<span class=muted>waiting for data…</span>" : ["net", "realized", "unrealized", "fees", "equity"]
  .map((k) => `<span class="kpi" data-testid="pnl-${k}">${k}<b>${esc(pnl[k])}</b></span>`).join("");

const overview = {
  render(main, s) {
    mount(main, "overview", `<section><h2>PnL today</h2><div id="kpis"></div></section>
      <section><h2>Positions</h2><div id="pos"></div></section>
      <section><h2>Venues</h2><div id="ven"></div></section>
      <section><h2>Risk</h2><div id="risk"></div></section>
      <section class="wide"><h2>Last fills</h2><div id="last-fills"></div></section>`);
    fill(main.querySelector("#kpis"), kpis(s.pnl));
    fill(main.querySelector("#pos"), table(["instrument", "position", "avg px", "mark", "unrealized"],
      [...s.positions.values()].map((p) => `<tr><td>${esc(p.instrument_id)}</td><td>${esc(p.quantity)}</td><td>${esc(p.avg_px)}</td><td>${esc(fmt(p.mark))}</td><td>${esc(fmt(p.unrealized_pnl))}</td></tr>`)));
    fill(main.querySelector("#ven"), venuesTable(s));
    fill(main.querySelector("#risk"), riskSummary(s));
    fill(main.querySelector("#last-fills"), fillsTable(s.fills.slice(-20).reverse()));
  },
};

function venuesTable(s) {
  return table(["venue", "health", "last data", "ack p50 ms", "ack p99 ms", "resyncs", "why"],
    s.venues.map((v) => `<tr data-testid="venue-row"><td>${esc(v.venue)}${v.simulated ? " (sim)" : ""}</td><td class="${v.health === "UP" ? "buy" : "sell"}">${esc(v.health)}</td><td>${v.last_update_age_ms === null ? "–" : esc(v.last_update_age_ms) + " ms"}</td><td>${esc(fmt(v.ack_p50_ms))}</td><td>${esc(fmt(v.ack_p99_ms))}</td><td>${esc(v.book_resyncs)}</td><td>${esc(v.reason)}</td></tr>`));
}

function riskSummary(s) {
  const r = s.risk;
  if (!r) return "";
  const holds = r.holds.map((h) => `<li>${esc(h.target ? `${h.scope} ${h.target}` : h.scope)}: <b>${esc(h.state)}</b> — ${esc(h.cause)}: ${esc(h.reason)}</li>`).join("");
  return `<p>State <b data-testid="risk-state">${esc(r.state)}</b>${r.kill_switch_active ? " — kill switch running" : ""}</p><ul>${holds || "<li class=muted>no holds</li>"}</ul>`;
}

function fillsTable(fills) {
  return table(["time", "instrument", "side", "price", "size", "liq", "fee", "order"],
    fills.map((f) => `<tr data-testid="fill-row"><td>${time(f.ts_ns)}</td><td>${esc(f.instrument_id)}</td><td class="${f.side === "BUY" ? "buy" : "sell"}">${esc(f.side)}</td><td>${esc(f.price)}</td><td>${esc(f.quantity)}</td><td>${esc(f.liquidity)}</td><td>${esc(f.fee)}</td><td>${esc(f.client_order_id)}</td></tr>`));
}

const quotes = {
  chart: null,
  render(main, s) {
    if (mount(main, "quotes", `<section class="wide"><h2>Quotes over the market <span id="iid" class="muted"></span></h2>
        <div id="quote-chart" data-testid="quote-chart"></div></section>
        <section><h2>Depth ladder</h2><div id="ladder" data-testid="ladder"></div></section>
        <section><h2>Fills</h2><div id="qfills"></div></section>`)) {
      this.chart = chart(main.querySelector("#quote-chart"), "mid, own bid/ask, fills",
        ["mid", "own bid", "own ask", "buy fill", "sell fill"], ["#94a3b8", "#4ade80", "#f87171", "#22c55e", "#ef4444"],
        [false, false, false, true, true]);
    }
    const iid = Object.keys(s.quotes)[0] || [...s.quoteSeries.keys()][0];
    if (!iid) return;
    main.querySelector("#iid").textContent = iid;
    const rows = s.quoteSeries.get(iid) || [];
    this.chart.setData(columns(rows, 6));
    const el = main.querySelector("#quote-chart");
    el.dataset.points = String(rows.length);
    el.dataset.fills = String(rows.filter((r) => r[4] !== null || r[5] !== null).length);
    const book = s.book[iid];
    if (book) {
      const asks = book.asks.slice(0, 10).reverse().map((l) => `<tr class="${Number(l.own) ? "own" : ""}"><td></td><td class="sell">${esc(l.price)}</td><td>${esc(l.size)}</td><td>${Number(l.own) ? esc(l.own) : ""}</td></tr>`);
      const bids = book.bids.slice(0, 10).map((l) => `<tr class="${Number(l.own) ? "own" : ""}"><td>${esc(l.size)}</td><td class="buy">${esc(l.price)}</td><td></td><td>${Number(l.own) ? esc(l.own) : ""}</td></tr>`);
      fill(main.querySelector("#ladder"), table(["bid size", "price", "ask size", "ours"], asks.concat(bids)));
    }
    fill(main.querySelector("#qfills"), fillsTable(s.fills.filter((f) => f.instrument_id === iid).slice(-15).reverse()));
  },
};

const orders = {
  rows: new Map(),
  render(main, s, actions) {
    if (mount(main, "orders", `<section class="wide"><h2>Open orders <button id="cancel-all" data-testid="cancel-all">Cancel all</button></h2>
        <table><thead><tr><th>order</th><th>strategy</th><th>instrument</th><th>side</th><th>price</th><th>size</th><th>filled</th><th>status</th><th></th></tr></thead>
        <tbody id="open-orders"></tbody></table></section>
        <section class="wide"><h2>Fill blotter</h2><div id="blotter"></div></section>`)) {
      this.rows = new Map();
      main.querySelector("#open-orders").addEventListener("click", (ev) => {
        const button = ev.target.closest("button[data-cid]");
        if (button) { button.disabled = true; actions.command("DELETE", `/orders/${encodeURIComponent(button.dataset.cid)}`).catch(() => {}); }
      });
      main.querySelector("#cancel-all").onclick = () => actions.command("POST", "/orders/cancel-all", { reason: "dashboard" }).catch(() => {});
    }
    const body = main.querySelector("#open-orders");
    const open = [...s.orders.values()].filter((o) => !["FILLED", "CANCELED", "REJECTED", "EXPIRED", "DENIED"].includes(o.status));
    const keep = new Set(open.map((o) => o.client_order_id));
    for (const [cid, tr] of this.rows) if (!keep.has(cid)) { tr.remove(); this.rows.delete(cid); }
    for (const o of open) {
      let tr = this.rows.get(o.client_order_id);
      if (!tr) {
        tr = document.createElement("tr"); tr.dataset.testid = "order-row"; tr.dataset.cid = o.client_order_id;
        tr.innerHTML = `<td>${esc(o.client_order_id)}</td><td>${esc(o.strategy_id)}</td><td>${esc(o.instrument_id)}</td><td class="${o.side === "BUY" ? "buy" : "sell"}">${esc(o.side)}</td><td>${esc(o.price)}</td><td>${esc(o.quantity)}</td><td class="filled"></td><td class="status"></td><td><button data-cid="${esc(o.client_order_id)}" data-testid="cancel-order">Cancel</button></td>`;
        body.appendChild(tr); this.rows.set(o.client_order_id, tr);
      }
      tr.querySelector(".filled").textContent = o.filled_qty;
      tr.querySelector(".status").textContent = o.status;
    }
    fill(main.querySelector("#blotter"), fillsTable(s.fills.slice(-100).reverse()));
  },
};

const pnl = {
  chart: null,
  async render(main, s, actions) {
    if (mount(main, "pnl", `<section class="wide"><h2>PnL</h2><div id="pkpis"></div><div id="equity-chart"></div></section>
        <section><h2>By instrument</h2><div id="by-inst"></div></section><section><h2>Daily</h2><div id="daily"></div></section>`)) {
      this.chart = chart(main.querySelector("#equity-chart"), "equity", ["equity", "net PnL"], ["#60a5fa", "#34d399"]);
      this.loaded = 0;
    }
    fill(main.querySelector("#pkpis"), kpis(s.pnl));
    if (s.pnl) fill(main.querySelector("#by-inst"), table(["instrument", "realized", "unrealized", "fees", "net"],
      s.pnl.by_instrument.map((l) => `<tr><td>${esc(l.instrument_id)}</td><td>${esc(l.realized)}</td><td>${esc(l.unrealized)}</td><td>${esc(l.fees)}</td><td>${esc(l.net)}</td></tr>`)));
    if (Date.now() - this.loaded > 2000) {
      this.loaded = Date.now();
      const [points, daily] = await Promise.all([actions.call("GET", "/pnl/equity?step_s=1"), actions.call("GET", "/pnl/daily")]);
      if (main.dataset.page !== "pnl") return;
      this.chart.setData([points.map((p) => p.ts_ns / 1e9), points.map((p) => Number(p.equity)), points.map((p) => Number(p.net))]);
      fill(main.querySelector("#daily"), table(["day", "net", "fees", "fills"], daily.map((d) => `<tr><td>${esc(d.day)}</td><td>${esc(d.net)}</td><td>${esc(d.fees)}</td><td>${esc(d.fills)}</td></tr>`)));
    }
  },
};

const risk = {
  render(main, s, actions) {
    if (mount(main, "risk", `<section><h2>Trading state</h2><div id="rstate"></div>
        <p><button id="reduce" data-testid="reduce-only">Reduce only</button> <button id="resume" data-testid="resume">Resume (admin)</button></p></section>
        <section><h2>Limits</h2><div id="limits"></div></section><section class="wide"><h2>Risk events</h2><div id="revents"></div></section>`)) {
      main.querySelector("#reduce").onclick = () => actions.command("POST", "/risk/reduce-only", { reason: "dashboard", scope: "node", target: "" }).catch(() => {});
      main.querySelector("#resume").onclick = () => {
        const reason = prompt("Reason for resuming (recorded):");
        if (reason) actions.command("POST", "/risk/resume", { reason, scope: "node", target: "" }).catch(() => {});
      };
      this.loaded = 0;
    }
    const me = actions.user();
    main.querySelector("#resume").hidden = !me || me.role !== "admin";
    fill(main.querySelector("#rstate"), riskSummary(s) + (s.risk ? `<p class="muted">denials: ${esc(JSON.stringify(s.risk.denials))}</p>` : ""));
    if (Date.now() - (this.loaded || 0) > 2000) {
      this.loaded = Date.now();
      Promise.all([actions.call("GET", "/risk/limits"), actions.call("GET", "/risk/events?limit=100")]).then(([limits, events]) => {
        if (main.dataset.page !== "risk") return;
        fill(main.querySelector("#limits"), table(["limit", "value", "unit"], limits.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(fmt(l.value))}</td><td>${esc(l.unit)}</td></tr>`)));
        fill(main.querySelector("#revents"), table(["time", "kind", "what"], events.slice().reverse().map((e) => `<tr><td>${time(e.ts_ns)}</td><td>${esc(e.kind)}</td><td style="text-align:left">${esc(e.message)}</td></tr>`)));
      }).catch(() => {});
    }
  },
};

const connectivity = {
  render(main, s) {
    mount(main, "connectivity", `<section class="wide"><h2>Venues</h2><div id="cven"></div></section>
      <section class="wide"><h2>Latency (µs, recent samples)</h2><div id="lat" data-testid="latency"></div></section>`);
    fill(main.querySelector("#cven"), venuesTable(s));
    fill(main.querySelector("#lat"), table(["path", "samples", "p50", "p99", "max"],
      s.latency.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(l.count)}</td><td>${esc(fmt(l.p50_us))}</td><td>${esc(fmt(l.p99_us))}</td><td>${esc(fmt(l.max_us))}</td></tr>`)));
  },
};

const strategies = {
  render(main, s, actions) {
    if (mount(main, "strategies", `<section class="wide"><h2>Strategies</h2><div id="strats"></div></section>`)) {
      main.querySelector("#strats").addEventListener("click", (ev) => {
        const b = ev.target.closest("button[data-action]");
        if (b) actions.command("POST", `/strategies/${encodeURIComponent(b.dataset.sid)}/${b.dataset.action}`, { reason: "dashboard" }).catch(() => {});
      });
    }
    const buttons = (st) => ["pause", "resume", "stop", "start"].map((a) => `<button data-action="${a}" data-sid="${esc(st.strategy_id)}">${a}</button>`).join(" ");
    fill(main.querySelector("#strats"), table(["strategy", "class", "state", "markets", "open orders", "fills", "params", ""],
      s.strategies.map((st) => `<tr data-testid="strategy-row"><td>${esc(st.strategy_id)}</td><td>${esc(st.class_name)}</td><td>${esc(st.state)}</td><td>${esc(st.instruments.join(", "))}</td><td>${esc(st.open_orders)}</td><td>${esc(st.fills)}</td><td style="text-align:left">${esc(JSON.stringify(st.params))}</td><td>${buttons(st)}</td></tr>`)));
  },
};

const logs = {
  render(main, s, actions) {
    if (mount(main, "logs", `<section class="wide"><h2>Warnings and errors</h2><div id="loglines"></div></section>
        <section class="wide"><h2>Audit: who asked for what</h2><div id="audit"></div></section>`)) this.loaded = 0;
    fill(main.querySelector("#loglines"), table(["time", "level", "logger", "message"],
      s.logs.slice(-200).reverse().map((l) => `<tr><td>${time(l.ts_ns)}</td><td>${esc(l.level)}</td><td>${esc(l.logger)}</td><td style="text-align:left">${esc(l.message)}</td></tr>`)));
    if (Date.now() - (this.loaded || 0) > 3000) {
      this.loaded = Date.now();
      actions.call("GET", `/audit?since_ns=${(Date.now() - 86400000) * 1e6}&limit=500`).then((rows) => {
        if (main.dataset.page !== "logs") return;
        fill(main.querySelector("#audit"), table(["time", "actor", "action", "reason"],
          rows.slice().reverse().map((r) => `<tr data-testid="audit-row"><td>${time(r.ts_ns)}</td><td>${esc(r.actor)}</td><td>${esc(r.action)}</td><td style="text-align:left">${esc(r.reason)}</td></tr>`)));
      }).catch(() => {});
    }
  },
};

export const PAGES = { overview, quotes, orders, pnl, risk, connectivity, strategies, logs };
