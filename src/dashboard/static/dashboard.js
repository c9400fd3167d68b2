// The isartor dashboard: reads the gateway's admin API and redraws every few
// seconds. No framework, no CDN: served by the gateway itself.
"use strict";
(() => {
  const LAYERS = ["l1a", "l1b", "l2", "l3", "gateway"];
  const LAYER_NAMES = {
    l1a: "L1a exact",
    l1b: "L1b semantic",
    l2: "L2 router",
    l3: "L3 cloud",
    gateway: "refused",
  };
  const COLORS = {
    l1a: "#4cc38a",
    l1b: "#5aa9e6",
    l2: "#c792ea",
    l3: "#f0a35e",
    gateway: "#e5636b",
  };
  const REFRESH_MS = 3000;
  const $ = (id) => document.getElementById(id);
  let key = sessionStorage.getItem("isartor-key") || "";
  let tab = "overview";
  let lastStats = null;
  const charts = {};

  const num = (n) => Math.round(n || 0).toLocaleString("en-US");
  const pct = (a, b) => (b > 0 ? `${(100 * a / b).toFixed(1)}%` : "-");
  const usd = (n) => (!n ? "$0" : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const time = (iso) => new Date(iso).toLocaleTimeString();
  const layerTag = (l) => `<span class="layer layer-${esc(l)}">${esc(LAYER_NAMES[l] ?? l)}</span>`;

  // Every table's header is written from its data-columns, so index.html lists each column once.
  for (const table of document.querySelectorAll("table[data-columns]")) {
    const heads = table.dataset.columns.split(",").map((c) => `<th>${esc(c.trim())}</th>`);
    table.innerHTML = `<thead><tr>${heads.join("")}</tr></thead><tbody></tbody>`;
  }

  class Unauthorized extends Error {}

  async function api(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(path, { ...init, headers, cache: "no-store" });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  }

  function askKey(message) {
    const dialog = $("key-dialog");
    $("key-error").textContent = message || "";
    if (!dialog.open) dialog.showModal();
    $("key-input").focus();
  }

  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    key = $("key-input").value.trim();
    sessionStorage.setItem("isartor-key", key);
    $("key-dialog").close();
    refresh();
  });

  for (const b of document.querySelectorAll("#tabs button")) {
    b.addEventListener("click", () => {
      tab = b.dataset.tab;
      for (const x of document.querySelectorAll("#tabs button")) {
        x.classList.toggle("active", x === b);
      }
      for (const s of document.querySelectorAll(".tab")) {
        s.classList.toggle("active", s.id === `tab-${tab}`);
      }
      refresh();
    });
  }

  function rows(table, html) {
    const el = document.querySelector(table);
    el.querySelector("tbody").innerHTML = html ||
      '<tr><td colspan="9" class="muted">nothing yet</td></tr>';
    // Each cell names its column: on a phone a row is shown as a card of labelled lines.
    const heads = [...el.querySelectorAll("thead th")].map((th) => th.textContent);
    for (const tr of el.querySelectorAll("tbody tr")) {
      [...tr.children].forEach((td, i) => td.dataset.label = heads[i] ?? "");
    }
  }

  function chart(id, series, data) {
    const el = $(id);
    const width = Math.max(280, el.clientWidth - 16);
    if (charts[id] && charts[id].series.length === series.length + 1) {
      charts[id].setData(data);
      if (Math.abs(charts[id].width - width) > 4) charts[id].setSize({ width, height: 200 });
      return;
    }
    charts[id]?.destroy();
    el.innerHTML = "";
    // deno-lint-ignore no-undef
    charts[id] = new uPlot(
      {
        width,
        height: 200,
        series: [{}, ...series],
        axes: [
          { stroke: "#8b96a3", grid: { stroke: "#27313b" } },
          { stroke: "#8b96a3", grid: { stroke: "#27313b" } },
        ],
        legend: { show: true },
      },
      data,
      el,
    );
  }

  async function overview() {
    const [stats, timeline] = await Promise.all([
      api("/api/v1/stats"),
      api("/api/v1/timeline?minutes=60"),
    ]);
    lastStats = stats;
    if (!$("version").textContent) {
      api("/health").then((h) => $("version").textContent = h.version).catch(() => {});
    }
    const t = stats.totals;
    $("c-requests").textContent = num(t.requests);
    $("c-errors").textContent = t.errors ? `${num(t.errors)} errors` : "no errors";
    $("c-deflected").textContent = pct(t.deflected, t.requests);
    $("c-tokens").textContent = num(t.saved_input_tokens + t.saved_output_tokens);
    $("c-tokens-split").textContent = `${num(t.saved_input_tokens)} in / ${
      num(t.saved_output_tokens)
    } out`;
    $("c-cost").textContent = usd(t.saved_cost_usd);
    $("c-cost-note").textContent = "estimates unless provider_prices is set";
    const xs = timeline.buckets.map((b) => b.t / 1000);
    const present = LAYERS.filter((l) => timeline.buckets.some((b) => b.layers[l]));
    const shown = present.length ? present : ["l1a", "l3"];
    chart(
      "chart-layers",
      shown.map((l) => ({ label: LAYER_NAMES[l], stroke: COLORS[l], width: 2 })),
      [xs, ...shown.map((l) => timeline.buckets.map((b) => b.layers[l] || 0))],
    );
    chart(
      "chart-saved",
      [{ label: "tokens saved", stroke: "#4cc38a", width: 2, fill: "rgba(76,195,138,.15)" }],
      [xs, timeline.buckets.map((b) => b.saved_tokens)],
    );
    chart(
      "chart-cost",
      [{ label: "est. USD saved", stroke: "#e6c35a", width: 2, fill: "rgba(230,195,90,.15)" }],
      [xs, timeline.buckets.map((b) => b.saved_cost_usd)],
    );
    const order = [
      ...LAYERS.filter((l) => stats.layers[l]),
      ...Object.keys(stats.layers).filter((l) => !LAYERS.includes(l)),
    ];
    rows(
      "#t-layers",
      order.map((l) => {
        const b = stats.layers[l];
        return `<tr><td>${layerTag(l)}</td><td class="num">${num(b.requests)}</td><td class="num">${
          pct(b.requests, t.requests)
        }</td><td class="num">${
          b.requests ? `${Math.round(b.latency_ms_total / b.requests)} ms` : "-"
        }</td></tr>`;
      }).join(""),
    );
    const tools = Object.entries(stats.tools).sort((a, b) => b[1].requests - a[1].requests).slice(
      0,
      10,
    );
    rows(
      "#t-tools",
      tools.map(([name, b]) =>
        `<tr><td>${esc(name)}</td><td class="num">${num(b.requests)}</td><td class="num">${
          pct(b.deflected, b.requests)
        }</td><td class="num">${
          num(b.saved_input_tokens + b.saved_output_tokens)
        }</td><td class="num">${usd(b.saved_cost_usd)}</td></tr>`
      ).join(""),
    );
  }

  async function requests() {
    const stats = await api("/api/v1/stats");
    lastStats = stats;
    renderRequests();
  }

  function renderRequests() {
    if (!lastStats) return;
    const text = $("f-text").value.trim().toLowerCase();
    const layer = $("f-layer").value;
    const list = lastStats.recent.slice().reverse().filter((r) =>
      (!layer || r.layer === layer) &&
      (!text ||
        `${r.tool} ${r.model} ${r.provider} ${r.route} ${r.status}`.toLowerCase().includes(text))
    );
    rows(
      "#t-requests",
      list.map((r) =>
        `<tr><td>${esc(time(r.time))}</td><td>${
          layerTag(r.layer)
        }</td><td>${r.status}</td><td class="num">${r.latency_ms} ms</td><td>${
          esc(r.tool)
        }</td><td>${esc(r.provider || "-")}</td><td>${esc(r.model)}</td><td class="num">${
          r.input_tokens === null ? "-" : `${num(r.input_tokens)} / ${num(r.output_tokens)}`
        }</td></tr>`
      ).join(""),
    );
  }
  $("f-text").addEventListener("input", renderRequests);
  $("f-layer").addEventListener("change", renderRequests);

  async function cache() {
    const [c, stats] = await Promise.all([api("/api/v1/cache/stats"), api("/api/v1/stats")]);
    const rate = (x) => (x ? pct(x.hits, (x.hits || 0) + (x.misses || 0)) + " hit rate" : "off");
    $("k-l1a").textContent = c.l1a ? `${num(c.l1a.entries)} entries` : "off";
    $("k-l1a-rate").textContent = c.l1a ? rate(c.l1a) : "";
    $("k-l1b").textContent = c.l1b ? `${num(c.l1b.entries)} entries` : "off";
    $("k-l1b-rate").textContent = c.l1b
      ? `${rate(c.l1b)} · ${c.l1b.embedder} ≥ ${c.l1b.similarity_threshold}`
      : "";
    $("k-mode").textContent = c.mode;
    $("k-backend").textContent = `${c.backend}, ttl ${num(c.ttl_secs)} s`;
    const matches = stats.recent.filter((r) => r.layer === "l1b").reverse();
    rows(
      "#t-matches",
      matches.map((r) =>
        `<tr><td>${esc(time(r.time))}</td><td class="num">${
          r.similarity === undefined ? "-" : Number(r.similarity).toFixed(4)
        }</td><td>${esc(r.tool)}</td><td>${
          esc(r.model)
        }</td><td class="num">${r.latency_ms} ms</td></tr>`
      ).join(""),
    );
  }

  $("purge").addEventListener("click", async () => {
    if (!confirm("Delete every cache entry of your tenant?")) return;
    try {
      const r = await api("/api/v1/cache", { method: "DELETE" });
      $("purge-result").textContent = `deleted ${r.deleted} entries`;
      refresh();
    } catch (e) {
      if (e instanceof Unauthorized) askKey("the key was refused");
      else $("purge-result").textContent = `failed: ${e.message}`;
    }
  });

  async function providers() {
    const p = await api("/api/v1/providers");
    rows(
      "#t-providers",
      p.chain.map((c) =>
        `<tr><td>${c.position === 0 ? "primary" : `fallback ${c.position}`}</td><td>${
          esc(c.label)
        }<br><small class="muted">${esc(c.base_url)}</small></td><td>${esc(c.model)}</td><td>${
          esc(c.health)
        }</td><td>${
          esc(Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(", ") || "-")
        }</td><td>${
          c.keys.length
            ? c.keys.map((k) =>
              `${esc(k.label)} ${esc(k.key)}${
                k.cooling_until
                  ? ` <small class="muted">cooling until ${esc(time(k.cooling_until))}</small>`
                  : ""
              }`
            ).join("<br>")
            : '<span class="muted">clients\' keys pass through</span>'
        }</td></tr>`
      ).join(""),
    );
  }

  async function config() {
    const c = await api("/api/v1/config");
    rows(
      "#t-config",
      Object.keys(c.values).sort().map((k) =>
        `<tr><td>${esc(k)}</td><td><code>${
          esc(JSON.stringify(c.values[k]))
        }</code></td><td class="muted">${esc(c.origins[k])}</td></tr>`
      ).join(""),
    );
  }

  const VIEWS = { overview, requests, cache, providers, config };
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const health = await fetch("/healthz", { cache: "no-store" }).then((r) => r.ok).catch(() =>
        false
      );
      $("status-dot").className = `dot ${health ? "ok" : "down"}`;
      await VIEWS[tab]();
    } catch (e) {
      if (e instanceof Unauthorized) askKey(key ? "the key was refused" : "");
    } finally {
      busy = false;
    }
  }

  refresh();
  setInterval(() => {
    if (!$("key-dialog").open) refresh();
  }, REFRESH_MS);
  addEventListener("resize", () => refresh());
})();
