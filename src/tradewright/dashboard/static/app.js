// The operator dashboard: a header with mode, trading state and the kill switch on every page, and one
// view per page, re-rendered from the live channels. Plain ES modules, no build step.
import { call, login, logout, refresh, user, Live } from "./api.js";
import { PAGES } from "./pages.js";

const $ = (sel) => document.querySelector(sel);
const store = {
  system: {}, venues: [], book: {}, quotes: {}, orders: new Map(), fills: [], positions: new Map(), pnl: null,
  risk: null, strategies: [], latency: [], logs: [], commands: [], quoteSeries: new Map(), connected: false,
};
window.__dash = store; // tests read the data layer (charts draw on canvas)
let live = null;
let pending = false;

function apply(channel, type, data) {
  if (channel === "system") store.system = data;
  else if (channel === "venues") store.venues = data;
  else if (channel === "book") {
    for (const b of (type === "snapshot" ? data : [data])) store.book[b.instrument_id] = b;
  } else if (channel === "quotes") {
    for (const q of data) {
      store.quotes[q.instrument_id] = q;
      const s = series(q.instrument_id);
      s.push([q.ts_ns / 1e9, num(q.mid), num(q.own_bid), num(q.own_ask), null, null]);
      trim(s);
    }
  } else if (channel === "orders") {
    if (type === "snapshot") { store.orders = new Map(data.map((o) => [o.client_order_id, o])); }
    else store.orders.set(data.client_order_id, data);
  } else if (channel === "fills") {
    const fills = type === "snapshot" ? data : [data];
    if (type === "snapshot") store.fills = [];
    for (const f of fills) {
      store.fills.push(f);
      const s = series(f.instrument_id);
      const row = [f.ts_ns / 1e9, null, null, null, null, null];
      row[f.side === "BUY" ? 4 : 5] = num(f.price);
      s.push(row); s.sort((a, b) => a[0] - b[0]); trim(s);
    }
    if (store.fills.length > 1000) store.fills.splice(0, store.fills.length - 1000);
  } else if (channel === "positions") {
    if (type === "snapshot") store.positions = new Map(data.map((p) => [p.instrument_id, p]));
    else store.positions.set(data.instrument_id, data);
  } else if (channel === "pnl") store.pnl = data;
  else if (channel === "risk") store.risk = type === "snapshot" ? data : data.state;
  else if (channel === "strategies") store.strategies = data;
  else if (channel === "latency") store.latency = data;
  else if (channel === "logs") { if (type === "snapshot") store.logs = data; else store.logs.push(data); }
  else if (channel === "commands") {
    if (type === "snapshot") store.commands = data; else store.commands.push({ type, ...data });
    if (store.commands.length > 50) store.commands.shift();
  }
  schedule();
}

const num = (v) => (v === null || v === undefined ? null : Number(v));
function series(iid) { if (!store.quoteSeries.has(iid)) store.quoteSeries.set(iid, []); return store.quoteSeries.get(iid); }
function trim(s) { if (s.length > 3000) s.splice(0, s.length - 3000); }

function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

function header() {
  const sys = store.system || {};
  $("#node-name").textContent = sys.node || "";
  const mode = (sys.mode || "").toUpperCase();
  $("#mode").textContent = mode; $("#mode").className = `badge ${mode}`;
  const state = sys.trading_state || "…";
  $("#state").textContent = sys.kill_switch_active ? `${state} (flattening)` : state;
  $("#state").className = `badge ${state}`;
  $("#state").title = (sys.holds || []).join("\n");
  $("#ws").className = `dot ${store.connected ? "up" : "down"}`;
  const me = user();
  $("#who").textContent = me ? `${me.name} (${me.role})` : "";
}

function currentPage() { return (location.hash.replace(/^#\//, "") || "overview").split("?")[0]; }

function render() {
  if (!user()) return;
  header();
  const page = PAGES[currentPage()] || PAGES.overview;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === `#/${currentPage()}`);
  Promise.resolve(page.render($("#main"), store, actions)).catch((e) => console.warn("render:", e.message));
}

const actions = {
  call,
  async command(method, path, body) {
    try { return await call(method, path, body); } catch (e) { toast(e.message); throw e; }
  },
  user,
  rerender: schedule,
};

function toast(message) {
  const d = $("#dialog");
  d.innerHTML = `<p class="error" data-testid="error">${escapeHtml(message)}</p><button id="dlg-ok">OK</button>`;
  if (!d.open) d.showModal();
  $("#dlg-ok").onclick = () => d.close();
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function halt() {
  const reason = prompt("Reason for the halt (recorded):", "operator halt from the dashboard");
  if (reason === null) return;
  await actions.command("POST", "/risk/halt", { reason: reason || "dashboard halt", scope: "node", target: "" });
}

async function flatten() {
  const d = $("#dialog");
  let preview;
  try { preview = await call("POST", "/risk/flatten/prepare"); } catch (e) { toast(e.message); return; }
  const positions = preview.positions.map((p) => `<li>${escapeHtml(p.instrument_id)}: ${escapeHtml(p.quantity)} (notional ${escapeHtml(p.notional ?? "?")})</li>`).join("") || "<li>none</li>";
  d.innerHTML = `<h3>Flatten everything — ${escapeHtml(preview.mode.toUpperCase())}</h3>
    <p data-testid="flatten-preview">Cancel <b>${preview.orders_to_cancel}</b> open orders and close positions:</p><ul>${positions}</ul>
    <p>Trading will be <b>HALTED</b>; only an admin can resume. Type <b>FLATTEN</b> and a reason.</p>
    <p><input id="flatten-word" data-testid="flatten-confirm-text" placeholder="FLATTEN" autocomplete="off">
    <input id="flatten-reason" data-testid="flatten-reason" placeholder="reason" value=""></p>
    <p><button id="flatten-go" class="danger" data-testid="flatten-execute" disabled>Flatten now</button>
    <button id="flatten-cancel">Cancel</button></p><p id="flatten-progress" data-testid="flatten-progress"></p>`;
  d.showModal();
  const word = $("#flatten-word"), reason = $("#flatten-reason"), go = $("#flatten-go");
  const check = () => { go.disabled = !(word.value === "FLATTEN" && reason.value.trim()); };
  word.oninput = check; reason.oninput = check;
  $("#flatten-cancel").onclick = () => d.close();
  go.onclick = async () => {
    go.disabled = true;
    try {
      const r = await call("POST", "/risk/flatten/execute", { confirm_token: preview.confirm_token, reason: reason.value.trim() });
      $("#flatten-progress").textContent = `${r.message} — watch the state become HALTED and positions flat`;
      setTimeout(() => d.close(), 1500);
    } catch (e) { $("#flatten-progress").textContent = e.message; }
  };
}

function showLogin(message) {
  $("#header").hidden = true;
  $("#main").innerHTML = `<form id="login"><h2>tradewright — log in</h2>
    <input id="username" data-testid="username" placeholder="user" autocomplete="username">
    <input id="password" data-testid="password" type="password" placeholder="password" autocomplete="current-password">
    <button data-testid="login">Log in</button><p class="error" id="login-error">${escapeHtml(message || "")}</p></form>`;
  $("#login").onsubmit = async (ev) => {
    ev.preventDefault();
    try { await login($("#username").value, $("#password").value); start(); }
    catch (e) { $("#login-error").textContent = e.message; }
  };
}

function start() {
  $("#header").hidden = false;
  if (!location.hash || location.hash === "#/login") location.hash = "#/overview";
  live = new Live(apply, (up) => { store.connected = up; schedule(); });
  live.open();
  schedule();
}

$("#halt").onclick = () => halt().catch(() => {});
$("#flatten").onclick = () => flatten().catch(() => {});
$("#logout").onclick = async () => { if (live) live.close(); await logout(); showLogin("logged out"); };
window.addEventListener("hashchange", schedule);
refresh().then((me) => (me ? start() : showLogin(""))).catch(() => showLogin(""));
