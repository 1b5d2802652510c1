// The dashboard's link to the node: REST calls with the in-memory access token (never localStorage),
// the refresh cookie (HttpOnly, sent only to /api/v1/auth), and the WebSocket with per-channel seq checks.

export const CHANNELS = ["system", "venues", "book", "quotes", "orders", "fills", "positions", "pnl",
  "risk", "strategies", "latency", "logs", "commands"];

let token = null;
let me = null;

export function user() { return me; }

export async function login(username, password) {
  const r = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }), credentials: "same-origin",
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || `login failed (${r.status})`);
  token = body.access_token; me = { name: body.username, role: body.role };
  return me;
}

export async function refresh() {
  const r = await fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
  if (r.status !== 200) { token = null; me = null; return null; } // 204: no session cookie
  const body = await r.json();
  token = body.access_token; me = { name: body.username, role: body.role };
  return me;
}

export async function logout() {
  await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
  token = null; me = null;
}

export async function call(method, path, body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["Idempotency-Key"] = crypto.randomUUID();
    const r = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401 && attempt === 0 && await refresh()) continue;
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error((data && data.detail) || `${method} ${path}: ${r.status}`);
    return data;
  }
  throw new Error("not logged in");
}

// One WebSocket for every channel. `onMessage(channel, type, data)`; a seq gap or a drop reconnects,
// which starts again from snapshots.
export class Live {
  constructor(onMessage, onStatus) {
    this.onMessage = onMessage; this.onStatus = onStatus; this.seq = {}; this.ws = null; this.closed = false;
    this.lastMessage = 0;
  }

  async open() {
    if (this.closed) return;
    let ticket;
    try { ticket = (await call("POST", "/auth/ws-ticket")).ticket; } catch (e) { this.retry(); return; }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws; this.seq = {};
    ws.onopen = () => { ws.send(JSON.stringify({ op: "subscribe", channels: CHANNELS })); this.onStatus(true); };
    ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    ws.onclose = () => { this.onStatus(false); if (this.ws === ws) this.retry(); };
    ws.onerror = () => {};
  }

  retry() { if (!this.closed) setTimeout(() => this.open(), 1500); }

  receive(msg) {
    this.lastMessage = Date.now();
    if (!msg.channel) return; // pong, heartbeat, error
    const last = this.seq[msg.channel];
    if (msg.type !== "snapshot" && last !== undefined && msg.seq !== last + 1) {
      this.ws.close(); // a gap: reconnect and start from snapshots
      return;
    }
    this.seq[msg.channel] = msg.seq;
    this.onMessage(msg.channel, msg.type, msg.data);
  }

  close() { this.closed = true; if (this.ws) this.ws.close(); }
}
