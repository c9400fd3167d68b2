/**
 * Just enough of PromQL and the Prometheus text format for the tests: which
 * metric names and label names an expression uses, and which a scrape exposes.
 *
 * @module
 */

/** PromQL's functions, aggregations and keywords (never metric names). */
const WORDS = new Set([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "group",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "rate",
  "irate",
  "increase",
  "delta",
  "idelta",
  "deriv",
  "histogram_quantile",
  "scalar",
  "vector",
  "clamp_min",
  "clamp_max",
  "abs",
  "ceil",
  "floor",
  "round",
  "label_replace",
  "label_join",
  "absent",
  "time",
  "sum_over_time",
  "avg_over_time",
  "max_over_time",
  "min_over_time",
  "last_over_time",
]);

/** The metric names and label names one expression uses. */
export interface ExprNames {
  metrics: string[];
  labels: string[];
}

/** Grafana's interval variables replaced by durations, so the text is plain PromQL. */
export function expandGrafanaVars(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "1h")
    .replaceAll("$__interval", "1m");
}

/** Which metrics and labels an expression names. */
export function namesOf(expr: string): ExprNames {
  let s = expandGrafanaVars(expr).replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, "");
  const labels = new Set<string>();
  // Grouping lists: by (a, b), on (...), ignoring (...), group_left (...).
  s = s.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, word, list: string) => {
      for (const l of list.split(",").map((x) => x.trim()).filter(Boolean)) labels.add(l);
      return ` ${word} `;
    },
  );
  // Matchers: {a="", b=~""}.
  s = s.replace(/\{([^}]*)\}/g, (_m, body: string) => {
    for (const m of body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)) labels.add(m[1]);
    return " ";
  });
  const metrics = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    if (!WORDS.has(m[0])) metrics.add(m[0]);
  }
  return { metrics: [...metrics], labels: [...labels] };
}

/** What a scrape exposes: each family's type, and the label names of each sample name. */
export interface Exposition {
  types: Map<string, string>;
  labels: Map<string, Set<string>>;
}

/** Parses the Prometheus text format (the parts these tests read). */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!m) continue;
    const set = labels.get(m[1]) ?? new Set<string>();
    labels.set(m[1], set);
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="/g)) set.add(l[1]);
  }
  return { types, labels };
}

/** Whether `name` is a series name of an exposed family (a histogram's `_bucket`, `_sum`, `_count` too). */
export function isExposed(name: string, e: Exposition): boolean {
  if (e.types.has(name)) return true;
  const family = name.replace(/_(bucket|sum|count)$/, "");
  return family !== name && e.types.get(family) === "histogram";
}
