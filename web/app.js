// alertd's web page: alerts by aggregation group, acknowledgements, silences, rules, status.
// Everything through alertd's HTTP API. Every label, annotation and comment is put into the
// page as text (textContent / text nodes), never parsed as HTML; links are made only from
// http(s) URLs. The page runs under a Content-Security-Policy without inline script or style.

const REFRESH_MS = 15000;
const AUTO_OPEN_LIMIT = 500; // with more alerts than this, groups start collapsed
const PREVIEW_LIMIT = 200;

// ---------- small DOM helpers ----------

const $ = (id) => document.getElementById(id);

// el("a", {href, class, dataset: {...}}, child...): children are nodes or strings (text).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k === "text") e.textContent = v;
      else if (k === "onclick") e.addEventListener("click", v);
      else e.setAttribute(k, v === true ? "" : v);
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c); // strings become text nodes
  }
  return e;
}

// An http(s) URL as a link; anything else (javascript:, data:, relative) stays text.
function safeHref(u) {
  if (typeof u !== "string" || !/^https?:\/\//i.test(u.trim())) return null;
  try {
    const url = new URL(u.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function link(url, text) {
  const href = safeHref(url);
  if (!href) return document.createTextNode(text ?? String(url));
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text ?? url);
}

function labelChip(name, value) {
  return el("span", { class: "label" }, el("span", { class: "n" }, name + "="), value);
}

// ---------- time ----------

function parseTime(s) {
  if (!s) return null;
  const t = Date.parse(s);
  if (!isFinite(t) || t <= 0 || new Date(t).getUTCFullYear() < 1971) return null;
  return t;
}

function fmtDuration(ms) {
  let s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return s + "s";
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + "d" + (h ? " " + h + "h" : "");
  if (h) return h + "h" + (m ? " " + m + "m" : "");
  return m + "m" + (s && m < 10 ? " " + s + "s" : "");
}

function ago(t) {
  if (t === null) return "never";
  const d = Date.now() - t;
  return d >= 0 ? fmtDuration(d) + " ago" : "in " + fmtDuration(d);
}

// Local time as 2026-12-07 21:04:53 (cheaper than toLocaleString, which loads locale data).
const pad = (n) => String(n).padStart(2, "0");
function fmtAbs(t) {
  if (t === null) return "";
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function fmtClock(t) {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// A time element: relative text, absolute time on hover.
function timeEl(t, prefix) {
  return el("time", { datetime: t === null ? undefined : new Date(t).toISOString(), title: fmtAbs(t) },
    (prefix || "") + ago(t));
}

// Go-like durations: "90m", "1h30m", "2d", "1w".
function parseDuration(s) {
  s = (s || "").trim();
  if (!s) return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  const unit = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6 };
  let total = 0, m, pos = 0;
  while ((m = re.exec(s))) { total += parseFloat(m[1]) * unit[m[2]]; pos = re.lastIndex; }
  if (pos !== s.length || total <= 0) return null;
  return total;
}

// ---------- matchers ----------

// Splits `a="x", b=~"y,z"` (optionally in braces) at commas outside quotes.
function splitMatchers(text) {
  let s = (text || "").trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  const out = [];
  let cur = "", q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q && c === "\\") { cur += c + (s[i + 1] ?? ""); i++; continue; }
    if (c === '"') q = !q;
    if (!q && (c === "," || c === "\n")) { if (cur.trim()) out.push(cur.trim()); cur = ""; continue; }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

// One matcher `name op value` into Alertmanager's JSON form, or throws with a message.
function parseMatcher(s) {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(s);
  if (!m) throw new Error(`not a matcher: ${s} (expected name="value", name!="value", name=~"regex" or name!~"regex")`);
  let value = m[3];
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw new Error(`unterminated quote in ${s}`);
    try { value = JSON.parse(value); } catch { throw new Error(`bad quoting in ${s}`); }
  }
  const op = m[2];
  return { name: m[1], value, isRegex: op === "=~" || op === "!~", isEqual: op === "=" || op === "=~" };
}

function matcherText(m) {
  const op = m.isRegex ? (m.isEqual ? "=~" : "!~") : (m.isEqual ? "=" : "!=");
  return m.name + op + JSON.stringify(m.value);
}

function labelMatchers(labels) {
  return Object.keys(labels).sort().map((k) => ({ name: k, value: labels[k], isRegex: false, isEqual: true }));
}

// ---------- API ----------

let token = sessionStorage.getItem("alertd.token") || "";
let auth = { enabled: false, protectReads: false, authenticated: false, token: null, roles: [] };
const can = (role) => auth.roles.includes(role);

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    if (data && typeof data === "object" && (data.error || data.message)) msg = data.error || data.message;
    else if (typeof data === "string" && data) msg = data;
    else if (text && text.length < 300) msg = text.trim();
    if (r.status === 401) onUnauthorized();
    throw new ApiError(r.status, msg);
  }
  return { data, text };
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of params) p.append(k, v);
  const s = p.toString();
  return s ? "?" + s : "";
}

// ---------- URL state ----------

const TABS = ["alerts", "silences", "rules", "status"];
const ALERT_BOOLS = ["active", "silenced", "inhibited", "muted", "acked"];

function urlState() {
  const p = new URLSearchParams(location.search);
  const tab = TABS.includes(p.get("tab")) ? p.get("tab") : "alerts";
  return { p, tab };
}

function setUrl(mutate, push = true) {
  const p = new URLSearchParams(location.search);
  mutate(p);
  const s = p.toString();
  const url = location.pathname + (s ? "?" + s : "");
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

// ---------- banner ----------

function banner(msg, info = false) {
  const b = $("banner");
  if (!msg) { b.hidden = true; b.textContent = ""; return; }
  b.textContent = msg;
  b.classList.toggle("info", info);
  b.hidden = false;
}

// ---------- alerts view ----------

const openGroups = new Map(); // group key -> open?
let lastGroupsText = null;
let lastGroups = [];
let alertsByFp = new Map();
let renderCount = 0;

function groupKey(g) {
  const ls = g.labels || {};
  return (g.receiver?.name || "") + "|" + Object.keys(ls).sort().map((k) => k + "=" + JSON.stringify(ls[k])).join(",");
}

// Computed once per alert and response (the objects are new with every response).
function alertFlags(a) {
  if (a.__flags) return a.__flags;
  const st = a.status || {};
  return a.__flags = {
    firing: st.state === "active",
    acked: !!a.ack,
    silenced: (st.silencedBy || []).length > 0,
    inhibited: (st.inhibitedBy || []).length > 0,
    muted: (st.mutedBy || []).length > 0,
    state: st.state || "unknown",
  };
}

function syncAlertFilterForm() {
  const { p } = urlState();
  const f = $("alert-filter");
  if (document.activeElement !== $("filter-input")) $("filter-input").value = p.getAll("filter").join(", ");
  if (document.activeElement !== $("receiver-input")) $("receiver-input").value = p.get("receiver") || "";
  for (const name of ALERT_BOOLS) f.elements[name].checked = p.get(name) !== "false";
}

function groupsPath() {
  const { p } = urlState();
  const params = [];
  for (const f of p.getAll("filter")) params.push(["filter", f]);
  for (const k of ["receiver", "active", "silenced", "inhibited", "muted"]) {
    if (p.get(k) !== null && p.get(k) !== "") params.push([k, p.get(k)]);
  }
  return "api/v2/alerts/groups" + qs(params);
}

// The first load asks for the groups while it asks who the token is.
let prefetched = null;

async function loadAlerts(force) {
  const { p } = urlState();
  const path = groupsPath();
  let res;
  if (prefetched && prefetched.path === path) {
    const pre = prefetched.promise;
    prefetched = null;
    res = await pre;
  } else {
    prefetched = null;
    res = await api(path);
  }
  const { data, text } = res;
  if (!force && text === lastGroupsText && Date.now() - lastRender < 60000) return;
  lastGroupsText = text;
  renderAlerts(Array.isArray(data) ? data : [], p.get("acked") === "false");
}

let lastRender = 0;

function renderAlerts(groups, hideAcked) {
  const t0 = performance.now();
  alertsByFp = new Map();
  let total = 0, firing = 0, acked = 0, suppressed = 0;
  const prepared = [];
  for (const g of groups) {
    let alerts = g.alerts || [];
    for (const a of alerts) alertsByFp.set(a.fingerprint, a);
    if (hideAcked) alerts = alerts.filter((a) => !a.ack);
    if (!alerts.length) continue;
    const info = { g, alerts, key: groupKey(g), firing: 0, acked: 0, suppressed: 0, unacked: 0 };
    for (const a of alerts) {
      const f = alertFlags(a);
      if (f.firing) { info.firing++; if (!f.acked) info.unacked++; }
      if (f.acked) info.acked++;
      if (f.state === "suppressed") info.suppressed++;
    }
    total += alerts.length; firing += info.firing; acked += info.acked; suppressed += info.suppressed;
    prepared.push(info);
  }
  // Groups that still need someone first, then as alertd sorts them.
  prepared.sort((a, b) => (b.unacked > 0) - (a.unacked > 0));
  lastGroups = prepared;
  const expand = urlState().p.get("expand");
  const autoOpen = expand === "all" || (expand !== "none" && total <= AUTO_OPEN_LIMIT);

  const focusKey = document.activeElement?.dataset?.focus;
  const y = window.scrollY;
  const frag = document.createDocumentFragment();
  for (const info of prepared) frag.append(renderGroup(info, openGroups.get(info.key) ?? autoOpen));
  if (!prepared.length) {
    frag.append(el("p", { class: "empty" }, groups.length ? "No alerts match the filters." : "No alerts."));
  }
  const container = $("groups");
  container.replaceChildren(frag);
  if (y) window.scrollTo(0, y);
  if (focusKey) container.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();

  $("alerts-summary").textContent =
    `${prepared.length} group${prepared.length === 1 ? "" : "s"}, ${total} alert${total === 1 ? "" : "s"}: ` +
    `${firing} firing, ${acked} acknowledged, ${suppressed} suppressed`;
  $("count-alerts").textContent = total ? String(total) : "";
  lastRender = Date.now();
  markRendered("alerts", prepared.length, t0);
}

function markRendered(view, groups, t0) {
  renderCount++;
  const root = document.documentElement;
  root.dataset.rendered = String(renderCount);
  root.dataset.renderedView = view;
  root.dataset.renderedGroups = String(groups);
  root.dataset.renderMs = String(Math.round(performance.now() - t0));
  const name = "alertd-rendered-" + view;
  if (!performance.getEntriesByName(name).length) {
    performance.mark(name);
    // After the browser has laid the page out and painted it.
    requestAnimationFrame(() => setTimeout(() => {
      performance.mark(name + "-painted");
      root.dataset.painted = String(renderCount);
    }, 0));
  }
}

function commonLabels(alerts) {
  const first = alerts[0].labels || {};
  const common = {};
  for (const k in first) {
    const v = first[k];
    if (alerts.every((a) => a.labels && a.labels[k] === v)) common[k] = v;
  }
  return common;
}

function renderGroup(info, open) {
  const { g, alerts, key } = info;
  const groupLabels = g.labels || {};
  const common = alerts.length > 1 ? commonLabels(alerts) : { ...groupLabels };
  const section = el("section", {
    class: "group " + (info.unacked ? "firing" : info.firing ? "acked" : "quiet"),
    dataset: { key, receiver: g.receiver?.name || "" },
  });
  const toggle = el("button", {
    type: "button", class: "toggle", "aria-expanded": open ? "true" : "false",
    "aria-label": open ? "Collapse group" : "Expand group", dataset: { focus: "t|" + key },
  }, open ? "▾" : "▸");
  const head = el("header", { class: "group-head" }, toggle,
    el("span", { class: "receiver", title: "receiver" }, g.receiver?.name || ""));
  const gl = el("span", { class: "labels" });
  for (const k of Object.keys(groupLabels).sort()) gl.append(labelChip(k, groupLabels[k]));
  head.append(gl);
  if (info.firing) head.append(el("span", { class: "badge firing" }, `${info.firing} firing`));
  if (info.acked) head.append(el("span", { class: "badge acknowledged" }, `${info.acked} acknowledged`));
  if (info.suppressed) head.append(el("span", { class: "badge silenced" }, `${info.suppressed} suppressed`));
  head.append(el("span", { class: "muted" }, `${alerts.length} alert${alerts.length === 1 ? "" : "s"}`),
    el("span", { class: "spacer" }));
  const actions = el("span", { class: "actions" });
  if (can("ack")) {
    const toAck = alerts.filter((a) => alertFlags(a).firing && !a.ack);
    const acked = alerts.filter((a) => a.ack);
    if (toAck.length) {
      actions.append(el("button", {
        type: "button", class: "action ack-group", dataset: { focus: "ag|" + key },
        onclick: () => openAck(toAck, `${toAck.length} firing alert${toAck.length === 1 ? "" : "s"} of the group ${describeLabels(groupLabels)} (${g.receiver?.name})`),
      }, "Acknowledge group"));
    }
    if (acked.length) {
      actions.append(el("button", {
        type: "button", class: "action unack-group", dataset: { focus: "ug|" + key },
        onclick: (ev) => unackMany(acked, ev.currentTarget),
      }, "Take back acks"));
    }
  }
  if (can("silence")) {
    actions.append(el("button", {
      type: "button", class: "action silence-group", dataset: { focus: "sg|" + key },
      onclick: () => openSilence({ matchers: labelMatchers(Object.keys(groupLabels).length ? groupLabels : common) }),
    }, "Silence group"));
  }
  head.append(actions);
  section.append(head);

  const infoBox = el("div", { class: "group-info" });
  if (g.escalation) infoBox.append(renderEscalation(g.escalation));
  const extra = Object.keys(common).filter((k) => !(k in groupLabels)).sort();
  if (extra.length) {
    const cl = el("div", { class: "labels common", title: "labels every alert of the group has" });
    for (const k of extra) cl.append(labelChip(k, common[k]));
    infoBox.append(cl);
  }
  if (infoBox.firstChild) section.append(infoBox);

  let list = null;
  const showAlerts = () => {
    list = el("ul", { class: "alerts" });
    const sorted = alerts.slice().sort(alertOrder);
    const frag = document.createDocumentFragment();
    for (const a of sorted) frag.append(renderAlert(a, common));
    list.append(frag);
    section.append(list);
  };
  if (open) showAlerts();
  toggle.addEventListener("click", () => {
    const nowOpen = toggle.getAttribute("aria-expanded") !== "true";
    openGroups.set(key, nowOpen);
    toggle.setAttribute("aria-expanded", nowOpen ? "true" : "false");
    toggle.setAttribute("aria-label", nowOpen ? "Collapse group" : "Expand group");
    toggle.textContent = nowOpen ? "▾" : "▸";
    if (nowOpen && !list) showAlerts();
    else if (list) list.hidden = !nowOpen;
  });
  return section;
}

function alertOrder(a, b) {
  const fa = alertFlags(a), fb = alertFlags(b);
  const ra = fa.firing && !fa.acked ? 0 : fa.firing ? 1 : 2;
  const rb = fb.firing && !fb.acked ? 0 : fb.firing ? 1 : 2;
  if (ra !== rb) return ra - rb;
  return (b.startsAt || "").localeCompare(a.startsAt || "");
}

function describeLabels(ls) {
  const keys = Object.keys(ls || {}).sort();
  return keys.length ? "{" + keys.map((k) => k + "=" + JSON.stringify(ls[k])).join(", ") + "}" : "{}";
}

function renderEscalation(e) {
  const box = el("div", { class: "escalation" });
  box.append(el("b", null, "Escalation "), el("span", { class: "mono" }, e.policy || ""), ": ");
  const steps = e.steps ?? 0;
  const done = e.nextStep ?? 0; // index of the step that fires next = steps done this round
  const rounds = e.rounds ?? 1;
  if (e.finished) {
    box.append("finished");
  } else {
    box.append(`${done} of ${steps} step${steps === 1 ? "" : "s"} done`);
    if (rounds > 1) box.append(` (round ${(e.round ?? 0) + 1} of ${rounds})`);
    const next = parseTime(e.nextAt);
    if (next !== null) {
      const to = (e.nextReceivers || []).length ? " to " + e.nextReceivers.join(", ") : "";
      if (next > Date.now()) box.append(` · next page${to} `, timeEl(next));
      else box.append(` · next page${to} due `, timeEl(next), " (waits while nothing is left to escalate)");
    }
  }
  if ((e.notified || []).length) box.append(" · notified " + e.notified.join(", "));
  const started = parseTime(e.startedAt);
  if (started !== null) box.append(" · started ", timeEl(started));
  return box;
}

const URL_ANNOTATION = /(^|_)(url|link|runbook|dashboard|playbook)s?$/i;

function renderAlert(a, common) {
  const f = alertFlags(a);
  const fp = a.fingerprint;
  const li = el("li", { class: "alert", dataset: { fingerprint: fp } });
  const top = el("div", { class: "alert-top" });
  if (f.state === "active") top.append(el("span", { class: "badge firing" }, "firing"));
  else if (f.state === "suppressed") top.append(el("span", { class: "badge silenced" }, "suppressed"));
  else top.append(el("span", { class: "badge unprocessed" }, f.state));
  if (a.ack) {
    const b = el("span", { class: "badge acknowledged" }, "acknowledged by " + (a.ack.by || "?"));
    const at = parseTime(a.ack.at);
    if (at !== null) b.append(" ", timeEl(at));
    const until = parseTime(a.ack.expiresAt);
    if (until !== null) b.append(", until ", timeEl(until));
    if (a.ack.comment) b.append(el("span", { class: "ack-note" }, a.ack.comment));
    top.append(b);
  }
  for (const id of a.status?.silencedBy || []) {
    top.append(el("span", { class: "badge silenced" }, "silenced by ",
      el("a", { href: "?tab=silences&silence=" + encodeURIComponent(id), class: "silence-link", dataset: { silence: id } }, id.slice(0, 8))));
  }
  for (const ifp of a.status?.inhibitedBy || []) {
    const src = alertsByFp.get(ifp);
    const name = src ? (src.labels?.alertname || ifp) + (src.labels?.severity ? ` (${src.labels.severity})` : "") : ifp;
    top.append(el("span", { class: "badge inhibited", title: "fingerprint " + ifp }, "inhibited by " + name));
  }
  for (const m of a.status?.mutedBy || []) top.append(el("span", { class: "badge muted" }, "muted by " + m));
  const starts = parseTime(a.startsAt);
  top.append(el("span", { class: "age" }, timeEl(starts, "since ")), el("span", { class: "spacer" }));
  const actions = el("span", { class: "actions" });
  if (can("ack") && f.firing && !a.ack) {
    actions.append(el("button", { type: "button", class: "action ack", dataset: { focus: "a|" + fp },
      onclick: () => openAck([a], describeLabels(a.labels)) }, "Acknowledge"));
  }
  if (can("ack") && a.ack) {
    actions.append(el("button", { type: "button", class: "action unack", dataset: { focus: "u|" + fp },
      onclick: (ev) => unackMany([a], ev.currentTarget) }, "Take back"));
  }
  if (can("silence")) {
    actions.append(el("button", { type: "button", class: "action silence", dataset: { focus: "s|" + fp },
      onclick: () => openSilence({ matchers: labelMatchers(a.labels || {}) }) }, "Silence"));
  }
  top.append(actions);
  li.append(top);

  const ls = a.labels || {};
  const own = Object.keys(ls).filter((k) => !(k in common)).sort();
  if (own.length) {
    const lw = el("div", { class: "labels" });
    for (const k of own) lw.append(labelChip(k, ls[k]));
    li.append(lw);
  }
  const an = a.annotations || {};
  if (an.summary) li.append(el("p", { class: "summary" }, an.summary));
  if (an.description) li.append(el("p", { class: "description" }, an.description));
  const rest = Object.keys(an).filter((k) => k !== "summary" && k !== "description").sort();
  const links = el("div", { class: "links" });
  let dl = null;
  for (const k of rest) {
    const v = an[k];
    if (safeHref(v) && (URL_ANNOTATION.test(k) || /^https?:\/\/\S+$/i.test(v.trim()))) {
      links.append(link(v, k.replace(/_url$/i, "").replace(/_/g, " ")));
    } else {
      dl ??= el("dl", { class: "annotations" });
      dl.append(el("dt", null, k), el("dd", null, v));
    }
  }
  if (a.generatorURL && safeHref(a.generatorURL)) links.append(link(a.generatorURL, "source"));
  if (dl) li.append(dl);
  if (links.firstChild) li.append(links);
  return li;
}

async function unackMany(alerts, button) {
  if (button) button.disabled = true;
  try {
    const results = await Promise.allSettled(alerts.map((a) =>
      api(`api/v1/alerts/${encodeURIComponent(a.fingerprint)}/ack`, { method: "DELETE" })));
    const failed = results.filter((r) => r.status === "rejected" && r.reason.status !== 404);
    if (failed.length) banner(`Taking back failed: ${failed[0].reason.message}`);
    else banner("");
  } finally {
    await refresh(true);
  }
}

// ---------- ack dialog ----------

let ackTargets = [];

function openAck(alerts, description) {
  ackTargets = alerts;
  const form = $("ack-form");
  $("ack-title").textContent = alerts.length === 1 ? "Acknowledge alert" : `Acknowledge ${alerts.length} alerts`;
  $("ack-target").textContent = description;
  $("ack-error").textContent = "";
  form.elements.comment.value = "";
  form.elements.by.value = localStorage.getItem("alertd.by") || "";
  form.elements.expires_in.value = "";
  $("ack-dialog").showModal();
  form.elements.comment.focus();
}

async function submitAck(ev) {
  ev.preventDefault();
  const form = $("ack-form");
  const body = { comment: form.elements.comment.value };
  const by = form.elements.by.value.trim();
  if (by) body.by = by;
  localStorage.setItem("alertd.by", by);
  if (form.elements.expires_in.value) body.expires_in = form.elements.expires_in.value;
  $("ack-submit").disabled = true;
  try {
    if (ackTargets.length === 1) {
      await api(`api/v1/alerts/${encodeURIComponent(ackTargets[0].fingerprint)}/ack`, { method: "POST", body });
    } else {
      await api("api/v1/acks", { method: "POST", body: { ...body, fingerprints: ackTargets.map((a) => a.fingerprint) } });
    }
    $("ack-dialog").close();
    await refresh(true);
  } catch (e) {
    $("ack-error").textContent = "Not acknowledged: " + e.message;
  } finally {
    $("ack-submit").disabled = false;
  }
}

// ---------- silence dialog ----------

let silenceEdit = null; // the silence being extended or recreated
let previewTimer = 0;
let previewSeq = 0;

function openSilence({ matchers, silence }) {
  silenceEdit = silence && silence.status?.state !== "expired" ? silence : null;
  const form = $("silence-form");
  $("silence-title").textContent = silenceEdit ? "Extend silence" : "New silence";
  $("silence-submit").textContent = silenceEdit ? "Update silence" : "Create silence";
  $("silence-error").textContent = "";
  $("silence-matchers").value = (silence ? silence.matchers : matchers || []).map(matcherText).join("\n");
  $("silence-matchers").readOnly = !!silenceEdit;
  $("silence-duration").value = "2h";
  $("silence-createdby").value = silence?.createdBy || localStorage.getItem("alertd.by") || auth.token || "";
  $("silence-comment").value = silence?.comment || "";
  $("silence-dialog").showModal();
  updateSilenceEnds();
  schedulePreview(0);
  (silenceEdit ? $("silence-duration") : $("silence-comment")).focus();
}

function updateSilenceEnds() {
  const d = parseDuration($("silence-duration").value);
  $("silence-ends").textContent = d ? "ends " + fmtAbs(Date.now() + d) : "duration such as 2h, 90m, 1d";
}

function schedulePreview(delay = 250) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, delay);
}

// The alerts the silence would match, from alertd's own matcher code (GET /api/v2/alerts
// with the same matchers), so what is shown is what will be silenced.
async function runPreview() {
  const seq = ++previewSeq;
  const list = $("silence-preview");
  const title = $("silence-preview-title");
  let matchers;
  try {
    matchers = splitMatchers($("silence-matchers").value).map(parseMatcher);
  } catch (e) {
    title.textContent = "Preview: " + e.message;
    list.replaceChildren();
    list.dataset.state = "error";
    return;
  }
  if (!matchers.length) {
    title.textContent = "Preview: add at least one matcher";
    list.replaceChildren();
    list.dataset.state = "empty";
    return;
  }
  list.dataset.state = "loading";
  try {
    const params = matchers.map((m) => ["filter", matcherText(m)]);
    params.push(["active", "true"], ["silenced", "true"], ["inhibited", "true"]);
    const { data } = await api("api/v2/alerts" + qs(params));
    if (seq !== previewSeq) return;
    const alerts = Array.isArray(data) ? data : [];
    title.textContent = `Preview: matches ${alerts.length} alert${alerts.length === 1 ? "" : "s"} now`;
    const frag = document.createDocumentFragment();
    for (const a of alerts.slice(0, PREVIEW_LIMIT)) {
      frag.append(el("li", { dataset: { fingerprint: a.fingerprint } }, describeLabels(a.labels)));
    }
    if (alerts.length > PREVIEW_LIMIT) frag.append(el("li", { class: "muted" }, `and ${alerts.length - PREVIEW_LIMIT} more`));
    list.replaceChildren(frag);
    list.dataset.count = String(alerts.length);
    list.dataset.matchers = matchers.map(matcherText).join("\n");
    list.dataset.state = "done";
  } catch (e) {
    if (seq !== previewSeq) return;
    title.textContent = "Preview failed: " + e.message;
    list.replaceChildren();
    list.dataset.state = "error";
  }
}

async function submitSilence(ev) {
  ev.preventDefault();
  const err = $("silence-error");
  err.textContent = "";
  let matchers;
  try {
    matchers = splitMatchers($("silence-matchers").value).map(parseMatcher);
  } catch (e) { err.textContent = e.message; return; }
  if (!matchers.length) { err.textContent = "A silence needs at least one matcher."; return; }
  const d = parseDuration($("silence-duration").value);
  if (!d) { err.textContent = "Duration: write it as 2h, 90m, 1d or 1h30m."; return; }
  const createdBy = $("silence-createdby").value.trim();
  const comment = $("silence-comment").value.trim();
  if (!createdBy) { err.textContent = "Say who creates the silence."; return; }
  if (!comment) { err.textContent = "Say why (comment)."; return; }
  localStorage.setItem("alertd.by", createdBy);
  const now = Date.now();
  const body = { matchers, createdBy, comment, startsAt: new Date(now).toISOString(), endsAt: new Date(now + d).toISOString() };
  if (silenceEdit) {
    body.id = silenceEdit.id;
    const st = parseTime(silenceEdit.startsAt);
    if (st !== null && st < now) body.startsAt = silenceEdit.startsAt;
  }
  $("silence-submit").disabled = true;
  try {
    const { data } = await api("api/v2/silences", { method: "POST", body });
    $("silence-dialog").close();
    banner(`Silence ${data?.silenceID || ""} ${silenceEdit ? "updated" : "created"}.`, true);
    await refresh(true);
  } catch (e) {
    err.textContent = "Not saved: " + e.message;
  } finally {
    $("silence-submit").disabled = false;
  }
}

// ---------- silences view ----------

let lastSilences = [];

async function loadSilences() {
  const { p } = urlState();
  const params = p.getAll("sfilter").flatMap((f) => splitMatchers(f)).map((m) => ["filter", m]);
  const { data } = await api("api/v2/silences" + qs(params));
  lastSilences = Array.isArray(data) ? data : [];
  renderSilences(lastSilences, p.get("silence"));
}

function renderSilences(silences, highlight) {
  const t0 = performance.now();
  const y = window.scrollY;
  const by = { active: [], pending: [], expired: [] };
  for (const s of silences) (by[s.status?.state] || by.expired).push(s);
  const frag = document.createDocumentFragment();
  const titles = { active: "Active", pending: "Pending", expired: "Expired" };
  for (const state of ["active", "pending", "expired"]) {
    const list = by[state];
    const cards = document.createDocumentFragment();
    for (const s of list) cards.append(renderSilence(s, s.id === highlight));
    if (state === "expired") {
      const d = el("details", { class: "section", id: "silences-expired" }, el("summary", null, `${titles[state]} (${list.length})`), cards);
      if (highlight && list.some((s) => s.id === highlight)) d.open = true;
      if (expiredOpen) d.open = true;
      d.addEventListener("toggle", () => { expiredOpen = d.open; });
      frag.append(d);
    } else {
      frag.append(el("h2", { class: "section" }, `${titles[state]} (${list.length})`));
      if (!list.length) frag.append(el("p", { class: "empty" }, `No ${state} silences.`));
      frag.append(cards);
    }
  }
  $("silences").replaceChildren(frag);
  $("count-silences").textContent = by.active.length ? String(by.active.length) : "";
  if (highlight && !highlightDone) {
    const c = document.querySelector(`.card[data-silence="${CSS.escape(highlight)}"]`);
    if (c) { c.scrollIntoView({ block: "center" }); highlightDone = true; }
  } else if (y) {
    window.scrollTo(0, y);
  }
  markRendered("silences", silences.length, t0);
}

let expiredOpen = false;
let highlightDone = false;

function renderSilence(s, highlighted) {
  const state = s.status?.state || "expired";
  const card = el("article", { class: "card silence" + (highlighted ? " highlight" : ""), dataset: { silence: s.id } });
  const h = el("h3", null, el("span", { class: "badge " + state }, state));
  const ms = el("span", { class: "labels" });
  for (const m of s.matchers || []) ms.append(el("span", { class: "label mono" }, matcherText(m)));
  h.append(ms);
  card.append(h);
  if (s.comment) card.append(el("p", { class: "comment" }, s.comment));
  const starts = parseTime(s.startsAt), ends = parseTime(s.endsAt);
  const meta = el("p", { class: "meta" }, "by " + (s.createdBy || "?") + " · ");
  if (state === "active") meta.append("ends ", el("time", { title: fmtAbs(ends) }, fmtAbs(ends)), ` (${fmtDuration(ends - Date.now())} left)`);
  else if (state === "pending") meta.append("starts ", timeEl(starts), ", ends ", timeEl(ends));
  else meta.append("ended ", timeEl(ends));
  meta.append(" · ", el("span", { class: "mono", title: "silence id" }, s.id));
  card.append(meta);
  const actions = el("div", { class: "actions" });
  const filter = (s.matchers || []).map(matcherText).join(", ");
  actions.append(el("a", { href: "?tab=alerts&" + new URLSearchParams([["filter", filter]]).toString(), class: "nav" }, "Matching alerts"));
  if (can("silence")) {
    if (state !== "expired") {
      actions.append(el("button", { type: "button", class: "action extend", dataset: { focus: "x|" + s.id },
        onclick: () => openSilence({ silence: s }) }, "Extend"));
      actions.append(expireButton(s));
    } else {
      actions.append(el("button", { type: "button", class: "action recreate", dataset: { focus: "r|" + s.id },
        onclick: () => openSilence({ silence: s }) }, "Recreate"));
    }
  }
  card.append(actions);
  return card;
}

// Two presses: the first arms the button for five seconds.
function expireButton(s) {
  const b = el("button", { type: "button", class: "action danger expire", dataset: { focus: "e|" + s.id } }, "Expire");
  let armed = 0;
  b.addEventListener("click", async () => {
    if (!armed) {
      b.textContent = "Press again to expire";
      armed = setTimeout(() => { armed = 0; b.textContent = "Expire"; }, 5000);
      return;
    }
    clearTimeout(armed);
    b.disabled = true;
    try {
      await api("api/v2/silence/" + encodeURIComponent(s.id), { method: "DELETE" });
      banner(`Silence ${s.id} expired.`, true);
    } catch (e) {
      banner("Not expired: " + e.message);
    }
    await refresh(true);
  });
  return b;
}

// ---------- rules view ----------

async function loadRules() {
  const { data } = await api("api/v1/rules");
  renderRules(data?.data?.groups || []);
}

function renderRules(groups) {
  const t0 = performance.now();
  const y = window.scrollY;
  const q = ($("rule-input").value || "").toLowerCase();
  const problems = $("rule-filter").elements.problems.checked;
  const frag = document.createDocumentFragment();
  let shown = 0;
  for (const g of groups) {
    const groupMatch = !q || (g.name || "").toLowerCase().includes(q);
    const rules = (g.rules || []).filter((r) =>
      (groupMatch || (r.name || "").toLowerCase().includes(q)) &&
      (!problems || r.health !== "ok" || r.state === "firing" || r.state === "pending"));
    if (!rules.length && (q || problems)) continue;
    shown++;
    const card = el("article", { class: "card rule-group", dataset: { group: g.name || "" } });
    const h = el("h3", null, g.name || "");
    card.append(h);
    const meta = el("p", { class: "meta" }, (g.file || "") + ` · every ${g.interval ?? "?"}s · last evaluation `,
      timeEl(parseTime(g.lastEvaluation)), ` · took ${fmtSeconds(g.evaluationTime)}`);
    card.append(meta);
    const table = el("table");
    table.append(el("thead", null, el("tr", null, el("th", null, "rule"), el("th", null, "health"),
      el("th", null, "state"), el("th", null, "last evaluation"), el("th", null, "took"), el("th", null, "query and alerts"))));
    const tb = el("tbody");
    for (const r of rules) {
      const tr = el("tr", { dataset: { rule: r.name || "" } });
      tr.append(el("td", null, el("b", null, r.name || ""), el("div", { class: "muted" }, r.type === "recording" ? "recording" : "alerting")));
      tr.append(el("td", null, el("span", { class: "badge " + (r.health === "ok" ? "ok" : r.health === "err" ? "err" : "unknown") }, r.health || "unknown")));
      tr.append(el("td", null, r.state ? el("span", { class: "badge " + r.state }, r.state) : ""));
      tr.append(el("td", null, timeEl(parseTime(r.lastEvaluation))));
      tr.append(el("td", null, fmtSeconds(r.evaluationTime)));
      const td = el("td", null, el("code", null, r.query || ""));
      if (r.duration) td.append(el("div", { class: "muted" }, `for ${fmtDuration(r.duration * 1000)}`));
      if (r.lastError) td.append(el("div", { class: "error" }, "last error: " + r.lastError));
      for (const w of r.warnings || []) td.append(el("div", { class: "muted" }, "warning: " + w));
      if ((r.alerts || []).length) {
        const ul = el("ul", { class: "rule-alerts" });
        for (const a of r.alerts) {
          ul.append(el("li", null, el("span", { class: "badge " + a.state }, a.state), " ", describeLabels(a.labels),
            " active ", timeEl(parseTime(a.activeAt)), a.value !== undefined ? ` · value ${a.value}` : ""));
        }
        td.append(ul);
      }
      tr.append(td);
      tb.append(tr);
    }
    table.append(tb);
    card.append(el("div", { class: "table-wrap" }, table));
    frag.append(card);
  }
  if (!shown) frag.append(el("p", { class: "empty" }, groups.length ? "No rule matches." : "alertd evaluates no rules (no rule_files)."));
  $("rules").replaceChildren(frag);
  if (y) window.scrollTo(0, y);
  markRendered("rules", shown, t0);
}

function fmtSeconds(s) {
  if (typeof s !== "number") return "";
  return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 0) + " ms" : s.toFixed(2) + " s";
}

// ---------- status view ----------

async function loadStatus() {
  const [st, cl] = await Promise.allSettled([api("api/v2/status"), api("api/v1/cluster")]);
  if (st.status === "rejected") throw st.reason;
  renderStatus(st.value.data || {}, cl.status === "fulfilled" ? cl.value.data : null);
}

function renderStatus(s, cluster) {
  const t0 = performance.now();
  const y = window.scrollY;
  const v = s.versionInfo || {};
  const up = parseTime(s.uptime);
  const frag = document.createDocumentFragment();
  const kv = el("dl", { class: "kv" });
  const row = (k, ...val) => kv.append(el("dt", null, k), el("dd", null, ...val));
  row("version", v.version || "");
  if (v.revision) row("revision", v.revision);
  if (v.branch) row("branch", v.branch);
  if (v.buildDate) row("built", v.buildDate);
  row("up since", up === null ? "" : fmtAbs(up) + ` (${fmtDuration(Date.now() - up)})`);
  row("authentication", auth.enabled ? (auth.authenticated ? `token ${auth.token} (${auth.roles.join(", ") || "no roles"})` : "on, no token given") : "off");
  frag.append(el("article", { class: "card", id: "status-version" }, el("h3", null, "alertd"), kv));

  const c = el("article", { class: "card", id: "status-cluster" }, el("h3", null, "Cluster"));
  if (cluster && Array.isArray(cluster.nodes)) {
    c.append(el("p", { class: "meta" }, `node ${cluster.node} · ${cluster.status} · database ${cluster.database_reachable ? "reachable" : "unreachable"} · owns ${(cluster.owned || []).length} of ${cluster.shards} shards`));
    const table = el("table", null, el("thead", null, el("tr", null, ...["node", "address", "live", "started", "last seen", "shards"].map((h) => el("th", null, h)))));
    const tb = el("tbody");
    for (const n of cluster.nodes) {
      tb.append(el("tr", null, el("td", null, n.name + (n.self ? " (this one)" : "")), el("td", null, n.address || ""),
        el("td", null, el("span", { class: "badge " + (n.live ? "ok" : "err") }, n.live ? "live" : "gone")),
        el("td", null, timeEl(parseTime(n.started_at))), el("td", null, timeEl(parseTime(n.last_seen))),
        el("td", null, (n.shards || []).length ? String(n.shards.length) : "0")));
    }
    table.append(tb);
    c.append(el("div", { class: "table-wrap" }, table));
  } else {
    c.append(el("p", { class: "meta" }, s.cluster?.status === "disabled" || !s.cluster ? "This alertd runs alone (no cluster)." : `status ${s.cluster.status}`));
  }
  frag.append(c);
  frag.append(el("article", { class: "card", id: "status-config" }, el("h3", null, "Configuration (secrets shown as <secret>)"),
    el("pre", null, s.config?.original || "")));
  $("status").replaceChildren(frag);
  if (y) window.scrollTo(0, y);
  markRendered("status", 1, t0);
}

// ---------- auth ----------

async function loadAuth() {
  try {
    const { data } = await api("api/v1/auth");
    if (data) auth = data;
  } catch (e) {
    // An alertd without the endpoint: assume no auth, every role.
    if (e.status === 404) auth = { enabled: false, protectReads: false, authenticated: false, token: null, roles: ["read", "alerts", "ack", "silence", "admin"] };
    else throw e;
  }
  document.body.classList.toggle("can-ack", can("ack"));
  document.body.classList.toggle("can-silence", can("silence"));
  for (const b of document.querySelectorAll(".needs-silence")) b.hidden = !can("silence");
  const tb = $("token-button");
  tb.hidden = !auth.enabled;
  tb.textContent = auth.authenticated ? `Token: ${auth.token}` : "Sign in";
}

function openToken(message) {
  $("token-error").textContent = message || "";
  $("token-input").value = "";
  $("token-forget").hidden = !token;
  $("token-readonly").textContent = auth.protectReads ? "Cancel" : "Continue read-only";
  $("token-text").textContent = auth.protectReads
    ? "This alertd needs a bearer token to show anything. The token is kept in this browser tab only (session storage)."
    : "This alertd needs a bearer token for changes; without one the page is read-only. The token is kept in this browser tab only (session storage).";
  const d = $("token-dialog");
  if (!d.open) d.showModal();
  $("token-input").focus();
}

let unauthorizedShown = false;
function onUnauthorized() {
  if (unauthorizedShown) return;
  unauthorizedShown = true;
  setTimeout(() => openToken(token ? "The token was not accepted." : "A token is needed to read this alertd."), 0);
}

async function submitToken(ev) {
  ev.preventDefault();
  const t = $("token-input").value.trim();
  if (!t) { $("token-error").textContent = "Enter a token."; return; }
  const previous = token;
  token = t;
  try {
    await loadAuth();
    if (!auth.authenticated) {
      token = previous;
      await loadAuth();
      $("token-error").textContent = "This token is not accepted.";
      return;
    }
  } catch (e) {
    token = previous;
    $("token-error").textContent = "Could not check the token: " + e.message;
    return;
  }
  sessionStorage.setItem("alertd.token", token);
  sessionStorage.removeItem("alertd.readonly");
  unauthorizedShown = false;
  $("token-dialog").close();
  banner("");
  await refresh(true);
}

async function forgetToken() {
  token = "";
  sessionStorage.removeItem("alertd.token");
  await loadAuth();
  $("token-dialog").close();
  await refresh(true);
}

// ---------- navigation and refresh ----------

let refreshing = null;
let pendingRefresh = false;

async function refresh(force = false) {
  if (refreshing) { pendingRefresh = true; return refreshing; }
  const { tab } = urlState();
  refreshing = (async () => {
    $("refresh-state").textContent = "updating…";
    try {
      if (tab === "alerts") await loadAlerts(force);
      else if (tab === "silences") await loadSilences();
      else if (tab === "rules") await loadRules();
      else await loadStatus();
      if (!$("banner").classList.contains("info")) banner("");
      $("refresh-state").textContent = "updated " + fmtClock(Date.now());
    } catch (e) {
      $("refresh-state").textContent = "update failed";
      banner(e.status === 401 || e.status === 403 ? `Not allowed: ${e.message}` : `Could not load: ${e.message}`);
    }
  })();
  try { await refreshing; } finally { refreshing = null; }
  if (pendingRefresh) { pendingRefresh = false; await refresh(true); }
}

function showTab() {
  const { tab, p } = urlState();
  for (const t of TABS) $("view-" + t).hidden = t !== tab;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.tab === tab) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.title = "alertd · " + tab;
  if (tab === "alerts") { syncAlertFilterForm(); lastGroupsText = null; }
  if (tab === "silences") {
    if (document.activeElement !== $("sfilter-input")) $("sfilter-input").value = p.getAll("sfilter").join(", ");
    highlightDone = false;
  }
}

function navigate(url) {
  history.pushState(null, "", url);
  showTab();
  window.scrollTo(0, 0);
  refresh(true);
}

function applyAlertFilter(ev) {
  ev?.preventDefault();
  const f = $("alert-filter");
  const matchers = splitMatchers($("filter-input").value);
  try { matchers.forEach(parseMatcher); } catch (e) { banner(e.message); return; }
  setUrl((p) => {
    p.delete("filter");
    for (const m of matchers) p.append("filter", m);
    const r = $("receiver-input").value.trim();
    if (r) p.set("receiver", r); else p.delete("receiver");
    for (const name of ALERT_BOOLS) {
      if (f.elements[name].checked) p.delete(name); else p.set(name, "false");
    }
  });
  lastGroupsText = null;
  refresh(true);
}

function wire() {
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest?.("a");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute("href");
    if (href && (href.startsWith("?") || a.id === "brand")) {
      ev.preventDefault();
      for (const d of document.querySelectorAll("dialog[open]")) d.close();
      navigate(a.id === "brand" ? location.pathname : href);
    }
  });
  window.addEventListener("popstate", () => { showTab(); refresh(true); });

  $("alert-filter").addEventListener("submit", applyAlertFilter);
  for (const name of ALERT_BOOLS) $("alert-filter").elements[name].addEventListener("change", applyAlertFilter);
  $("filter-clear").addEventListener("click", () => {
    $("filter-input").value = ""; $("receiver-input").value = "";
    for (const name of ALERT_BOOLS) $("alert-filter").elements[name].checked = true;
    applyAlertFilter();
  });
  $("expand-all").addEventListener("click", () => setAllGroups(true));
  $("collapse-all").addEventListener("click", () => setAllGroups(false));

  $("silence-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const ms = splitMatchers($("sfilter-input").value);
    try { ms.forEach(parseMatcher); } catch (e) { banner(e.message); return; }
    setUrl((p) => { p.delete("sfilter"); p.delete("silence"); for (const m of ms) p.append("sfilter", m); });
    refresh(true);
  });
  $("sfilter-clear").addEventListener("click", () => {
    $("sfilter-input").value = "";
    setUrl((p) => { p.delete("sfilter"); p.delete("silence"); });
    refresh(true);
  });
  $("silence-new").addEventListener("click", () => openSilence({ matchers: [] }));

  $("rule-filter").addEventListener("submit", (ev) => ev.preventDefault());
  $("rule-input").addEventListener("input", () => refresh(true));
  $("rule-filter").elements.problems.addEventListener("change", () => refresh(true));

  $("ack-form").addEventListener("submit", submitAck);
  $("silence-form").addEventListener("submit", submitSilence);
  $("silence-matchers").addEventListener("input", () => schedulePreview());
  $("silence-duration").addEventListener("input", updateSilenceEnds);
  $("token-form").addEventListener("submit", submitToken);
  $("token-readonly").addEventListener("click", () => {
    sessionStorage.setItem("alertd.readonly", "1");
    $("token-dialog").close();
  });
  $("token-forget").addEventListener("click", forgetToken);
  $("token-button").addEventListener("click", () => openToken());
  $("help-form").addEventListener("submit", (ev) => ev.preventDefault());
  $("help-button").addEventListener("click", () => $("help-dialog").showModal());
  for (const b of document.querySelectorAll("dialog .cancel")) b.addEventListener("click", () => b.closest("dialog").close());
  $("refresh-button").addEventListener("click", () => refresh(true));

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t.closest?.("input, textarea, select, dialog[open]") || t.isContentEditable) return;
    const tabKeys = { 1: "alerts", 2: "silences", 3: "rules", 4: "status" };
    if (tabKeys[ev.key]) { ev.preventDefault(); navigate("?tab=" + tabKeys[ev.key]); }
    else if (ev.key === "/") {
      ev.preventDefault();
      const { tab } = urlState();
      ({ alerts: $("filter-input"), silences: $("sfilter-input"), rules: $("rule-input") })[tab]?.focus();
    } else if (ev.key === "r") { ev.preventDefault(); refresh(true); }
    else if (ev.key === "e") setAllGroups(true);
    else if (ev.key === "c") setAllGroups(false);
    else if (ev.key === "?") $("help-dialog").showModal();
  });

  // Any CSP violation is recorded for the tests and shown in the console.
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
  });
}

function setAllGroups(open) {
  for (const info of lastGroups) openGroups.set(info.key, open);
  refresh(true);
}

async function main() {
  wire();
  showTab();
  if (urlState().tab === "alerts") {
    const path = groupsPath();
    const promise = api(path);
    promise.catch(() => {}); // handled where it is awaited
    prefetched = { path, promise };
  }
  try {
    await loadAuth();
  } catch (e) {
    banner("Could not reach alertd: " + e.message);
  }
  if (auth.enabled && (!auth.authenticated || !token)) {
    if (token && !auth.authenticated) openToken("The token kept for this tab is no longer accepted.");
    else if (!sessionStorage.getItem("alertd.readonly") || auth.protectReads) openToken();
  }
  if (!auth.protectReads || auth.authenticated) await refresh(true);
  // ?refresh=5s changes the period (at least 1s).
  const period = Math.max(1000, parseDuration(urlState().p.get("refresh")) || REFRESH_MS);
  setInterval(() => { if (!document.hidden) refresh(false); }, period);
}

main();
