// The inspector page: recent events from /inspect/api/events, then live over /inspect/api/stream (SSE).
// Event content is hostile input: it only ever reaches the page as text (textContent), never as markup.
"use strict";
(() => {
  const OUTCOMES = ["recorded", "corrupt", "duplicate", "dropped", "discarded", "mapping_error"];
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) => (token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path);
  const api = (path) => withToken(`/inspect/api/${path}`);
  const $ = (id) => document.getElementById(id);

  const state = { events: new Map(), order: [], lastId: 0, selected: null, paused: false, max: 1000, resets: null };
  const filters = $("filters");
  const tbody = document.querySelector("#events tbody");

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value == null ? "" : String(value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }
  const badge = (outcome) => el("span", { class: `badge ${OUTCOMES.includes(outcome) ? outcome : ""}`, text: outcome });
  const time = (ms) => {
    const d = new Date(ms);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  };

  // --- filters ---------------------------------------------------------------------------------------
  function wanted() {
    const data = new FormData(filters);
    return Object.fromEntries([...data.entries()].filter(([, v]) => String(v).trim() !== "").map(([k, v]) => [k, String(v).trim()]));
  }
  function passes(event, want) {
    if (want.outcome && event.outcome !== want.outcome) return false;
    if (want.type && event.event_type !== want.type) return false;
    if (want.source && event.source !== want.source) return false;
    if (want.sink && !event.sinks.includes(want.sink)) return false;
    if (want.party && !(event.party_id || "").includes(want.party)) return false;
    if (want.session && !(event.session_id || "").includes(want.session)) return false;
    return true;
  }
  function addOption(select, value) {
    if (value == null || value === "") return;
    if ([...select.options].some((o) => o.value === value)) return;
    select.append(el("option", { value, text: value }));
  }
  for (const outcome of OUTCOMES) addOption(filters.elements.outcome, outcome);
  function learn(event) {
    addOption(filters.elements.source, event.source);
    for (const sink of event.sinks) addOption(filters.elements.sink, sink);
    const types = $("types");
    if (event.event_type && ![...types.options].some((o) => o.value === event.event_type)) {
      types.append(el("option", { value: event.event_type }));
    }
  }

  // --- the table -------------------------------------------------------------------------------------
  function row(event) {
    const tr = el("tr", { "data-id": event.id, "aria-selected": String(event.id === state.selected) }, [
      el("td", { class: "time", text: time(event.time) }),
      el("td", {}, [badge(event.outcome)]),
      el("td", { text: event.event_type ?? "—" }),
      el("td", { class: "wide", text: event.source }),
      el("td", { class: "wide mono", text: event.party_id ?? "—", title: event.party_id ?? "" }),
      el("td", { class: "wide", text: event.sinks.join(", ") || "—" }),
    ]);
    tr.tabIndex = 0;  // rows are reachable and openable from the keyboard too
    tr.addEventListener("click", () => select(event.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(event.id); } });
    return tr;
  }
  function redraw() {
    const want = wanted();
    const rows = [];
    for (const id of state.order) {
      const event = state.events.get(id);
      if (passes(event, want)) rows.push(row(event));
    }
    tbody.replaceChildren(...rows);
    $("empty").hidden = rows.length > 0;
  }
  function add(events) {
    const want = wanted();
    for (const event of events) {
      if (state.events.has(event.id)) continue;
      state.events.set(event.id, event);
      state.order.unshift(event.id);
      state.lastId = Math.max(state.lastId, event.id);
      learn(event);
      if (!state.paused && passes(event, want)) tbody.prepend(row(event));
    }
    while (state.order.length > state.max) {
      const old = state.order.pop();
      state.events.delete(old);
      tbody.querySelector(`tr[data-id="${old}"]`)?.remove();
    }
    $("empty").hidden = tbody.children.length > 0;
  }
  function clear() {
    state.events.clear();
    state.order = [];
    tbody.replaceChildren();
    $("empty").hidden = false;
    closeDetail();
  }

  // --- the detail pane -------------------------------------------------------------------------------
  const section = (title, ...content) => [el("h3", { text: title }), ...content];
  const json = (value) => el("pre", { class: "mono", text: JSON.stringify(value, null, 2) });
  function pairs(entries) {
    const rows = entries.map(([key, value]) => el("tr", {}, [el("td", { text: key }), el("td", { class: "mono", text: value })]));
    return rows.length ? el("table", { class: "kv" }, [el("tbody", {}, rows)]) : el("p", { class: "empty", text: "none" });
  }
  function select(id) {
    state.selected = id;
    const event = state.events.get(id);
    for (const tr of tbody.children) tr.setAttribute("aria-selected", String(Number(tr.dataset.id) === id));
    if (!event) return;
    $("detail-title").textContent = `#${event.id} ${event.event_type ?? "(no event type)"} · ${time(event.time)}`;
    const request = event.request;
    const query = typeof request.query.error === "string"
      ? [["error", request.query.error]]
      : Object.entries(request.query).flatMap(([key, values]) => values.map((v) => [key, v]));
    const ids = [["source", event.source], ["party", event.party_id], ["session", event.session_id],
      ["page view", event.page_view_id], ["event", event.event_id], ["location", event.location],
      ["corrupt", String(event.corrupt)], ["duplicate", String(event.duplicate)],
      ["recorded", String(event.recorded)]].filter(([, v]) => v != null);
    const mappings = event.mappings.map((m) => el("div", { class: "mapping" }, [
      el("div", { class: "mapping-head" }, [
        el("strong", { text: m.mapping }), badge(m.outcome),
        ...m.sinks.map((s) => el("span", { class: "sink", text: s.queued ? `→ ${s.sink}` : `✗ ${s.sink} (queue full)` })),
      ]),
      ...(m.reason ? [el("div", { class: "reason", text: m.reason })] : []),
      ...(m.record ? [json(m.record)] : []),
    ]));
    $("detail-body").replaceChildren(
      ...section("Outcome", el("div", {}, [badge(event.outcome)]), ...(event.reason ? [el("div", { class: "reason", text: event.reason })] : [])),
      ...section("Event", pairs(ids)),
      ...section("Event parameters", event.parameters == null ? el("p", { class: "empty", text: "none" }) : json(event.parameters)),
      ...section("Request", pairs([["method", request.method], ["target", request.target], ["remote address", request.remote_address]])),
      ...section("Query parameters", pairs(query)),
      ...section("Headers", pairs(request.headers)),
      ...(request.body != null ? section("Body", el("pre", { class: "mono", text: request.body })) : []),
      ...section("Records per mapping", ...(mappings.length ? mappings : [el("p", { class: "empty", text: "no mapping ran" })])),
    );
    $("detail").hidden = false;
  }
  function closeDetail() {
    state.selected = null;
    $("detail").hidden = true;
    for (const tr of tbody.children) tr.setAttribute("aria-selected", "false");
  }

  // --- header: rates per outcome ---------------------------------------------------------------------
  function summary(s) {
    state.max = Math.min(s.max_events, 1000);  // rows the table keeps (the API's default limit)
    $("rates").replaceChildren(...OUTCOMES.map((o) => el("li", { "data-outcome": o, title: `${o}: since start or the last clear; per second over the last ${s.rate_window_seconds} s` }, [
      el("span", { class: `dot badge ${o}` }), el("span", { text: o.replace("_", " ") }),
      el("span", { class: "n", text: s.counts[o] }), el("span", { class: "per", text: `${s.per_second[o]}/s` }),
    ])));
  }

  // --- data ------------------------------------------------------------------------------------------
  let source = null;
  function live(stateName) {
    const badgeEl = $("live");
    badgeEl.dataset.state = stateName;
    badgeEl.textContent = stateName;
  }
  function connect() {
    source?.close();
    source = new EventSource(api(`stream?after=${state.lastId}`));
    source.addEventListener("open", () => live(state.paused ? "paused" : "live"));
    source.addEventListener("events", (m) => add(JSON.parse(m.data)));
    source.addEventListener("summary", (m) => summary(JSON.parse(m.data)));
    source.addEventListener("reset", (m) => { clear(); summary(JSON.parse(m.data)); });
    source.addEventListener("error", () => live("offline"));
  }
  async function load() {
    const [events, s] = await Promise.all([
      fetch(api(`events?limit=${state.max}`)).then((r) => r.json()),
      fetch(api("summary")).then((r) => r.json()),
    ]);
    summary(s);
    add(events.events.slice().reverse());
    connect();
  }

  filters.addEventListener("input", redraw);
  filters.addEventListener("submit", (e) => e.preventDefault());
  $("close").addEventListener("click", closeDetail);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDetail(); });
  $("pause").addEventListener("click", (e) => {
    state.paused = !state.paused;
    e.currentTarget.setAttribute("aria-pressed", String(state.paused));
    e.currentTarget.textContent = state.paused ? "Resume" : "Pause";
    live(state.paused ? "paused" : "live");
    if (!state.paused) redraw();
  });
  $("reset").addEventListener("click", () => fetch(api("reset"), { method: "POST" }));
  load().catch(() => live("offline"));
})();
