/**
 * `isartor models`: list the embedding models isartor knows (present?
 * verified? where?) and pull them from the Hugging Face hub, or from a local
 * folder on an air-gapped machine. Files are checked against pinned SHA-256
 * digests; downloads resume.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Config } from "../src/config/schema.ts";
import {
  findModel,
  KNOWN_MODELS,
  type ModelManifest,
  type ModelVariant,
  variantsOf,
} from "../src/embed/model_files.ts";
import {
  type FolderCheck,
  locateModel,
  type ModelEnv,
  ModelError,
  modelFolder,
  type ModelPaths,
  modelPaths,
  type PullEvent,
  pullModel,
} from "../src/embed/models.ts";
import { QWEN2_5_0_5B_INSTRUCT_Q4 } from "../src/slm/router_model.ts";
import { isRemoteRouter } from "../src/slm/build.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";

/** Every model `isartor models` knows: the embedding model first, then the L2 router model. */
export const ALL_MODELS: readonly ModelManifest[] = [...KNOWN_MODELS, QWEN2_5_0_5B_INSTRUCT_Q4];

/** The options of `pull`, in both its help and the command's. */
const PULL_OPTIONS = `Options:
  --model NAME     ${ALL_MODELS.map((m) => m.name).join(" or ")}
  --variant V      MiniLM: q8 (default: the int8 export, faster here), fp32, or all
  --from DIR       copy from a folder of model files instead of downloading (air-gapped)
  --dir DIR        use this models folder instead of models_dir
  --json           print the result as JSON
  -h, --help       show this help`;

/** Help for `isartor models pull`. */
export const pullUsage =
  `isartor models pull [--model NAME] [--variant q8|fp32|all] [--from DIR] [--dir DIR] [--json]

Downloads model files from the Hugging Face hub into models_dir (default
<data_dir>/models) with a progress bar; an interrupted download resumes; every
file is checked against its pinned SHA-256. Without --model: the embedding
model, and the router model too when L2 is on with the embedded backend.

${PULL_OPTIONS}

Environment: ISARTOR__MODELS_DIR, HF_HOME (its hub cache is reused), HF_ENDPOINT (a mirror).

Examples:
  isartor models pull
  isartor models pull --from /media/usb/all-MiniLM-L6-v2
  isartor models pull --model ${QWEN2_5_0_5B_INSTRUCT_Q4.name}`;

/** Help for `isartor models list`. */
export const listUsage = `isartor models list [--dir DIR] [--json]

Each known embedding model: whether it is present and verified (SHA-256), and where.

Examples:
  isartor models list
  isartor models list --json | jq '.models[0].verified'`;

/** Help for `isartor models`. */
export const usage = `isartor models <list|pull> [options]

The embedding model of the semantic cache (embedding_backend = "minilm") and
the small model of the L2 router (${QWEN2_5_0_5B_INSTRUCT_Q4.name}, a 398 MB GGUF, for
enable_slm_router with router_backend = "embedded").

  isartor models list [--json]
      Each known model: present and verified (SHA-256), and where.
  isartor models pull [--model NAME] [--variant q8|fp32|all] [--from DIR] [--dir DIR] [--json]
      Downloads the model files from the Hugging Face hub into models_dir
      (default <data_dir>/models) with a progress bar; an interrupted download
      resumes; every file is checked against its pinned SHA-256. Without
      --model: the embedding model, and the router model too when L2 is on
      with the embedded backend.

${PULL_OPTIONS}

Environment: ISARTOR__MODELS_DIR (the models folder), HF_HOME (its hub cache is
searched and reused), HF_ENDPOINT (another hub or mirror).

Examples:
  isartor models pull
  isartor models pull --from /media/usb/all-MiniLM-L6-v2
  isartor models pull --model ${QWEN2_5_0_5B_INSTRUCT_Q4.name}
  isartor models list --json | jq '.models[0].verified'`;

/** What the command needs from outside; tests inject these. */
export interface ModelsDeps {
  /** The configuration (default: loaded as the gateway would). */
  config?: Config;
  /** HF_HOME, HF_ENDPOINT, HOME (default: the process environment). */
  env?: ModelEnv;
  /** The models `list` shows and `pull --model` accepts (default: the pinned ones). */
  models?: readonly ModelManifest[];
  fetch?: typeof fetch;
  /** Extra download attempts per file after a cut (default 3). */
  retries?: number;
}

/** Bytes as people read them (decimal units). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB"];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function processEnv(): ModelEnv {
  const get = (k: string) => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined;
    }
  };
  return { HF_HOME: get("HF_HOME"), HF_ENDPOINT: get("HF_ENDPOINT"), HOME: get("HOME") };
}

function status(check: FolderCheck | null): string {
  if (!check) return "missing";
  if (check.ok) return "verified";
  const bad = check.files.filter((f) => f.problem && f.problem !== "missing");
  return bad.length > 0 ? `corrupt: ${bad.map((f) => f.path).join(", ")}` : "incomplete";
}

async function list(io: CliIO, paths: ModelPaths, models: readonly ModelManifest[], json: boolean) {
  const rows = [];
  for (const m of models) {
    const { found, checked } = await locateModel(m, paths);
    const best = found ?? checked.find((c) => c.files.some((f) => f.problem !== "missing")) ?? null;
    rows.push({ m, found, best });
  }
  if (json) {
    io.out(JSON.stringify(
      {
        models_dir: paths.modelsDir,
        hf_hub_cache: paths.hfHubDir,
        models: rows.map(({ m, found, best }) => ({
          name: m.name,
          model: m.model,
          repo: m.repo,
          revision: m.revision,
          dims: m.dims,
          license: m.license,
          present: found !== null,
          verified: found !== null,
          status: status(best),
          folder: best?.folder ?? null,
          source: best?.source ?? null,
          variants: best?.variants ?? [],
          files: (best?.files ?? []).map((f) => ({ path: f.path, problem: f.problem })),
        })),
      },
      null,
      2,
    ));
    return;
  }
  io.out(`Models folder: ${paths.modelsDir}${paths.hfHubDir ? ` (and ${paths.hfHubDir})` : ""}`);
  io.out("");
  for (const { m, best } of rows) {
    const s = status(best);
    const color = s === "verified" ? "green" : s === "missing" ? "yellow" : "red";
    const what = m.role === "router" ? "L2 router model (GGUF)" : `${m.dims} dims`;
    io.out(`${style(io, m.name, "bold")}  ${m.model}, ${what}, ${m.license}`);
    io.out(`  status:   ${style(io, s, color)}${best?.ok ? ` (${best.variants.join(", ")})` : ""}`);
    io.out(`  where:    ${best?.folder ?? `${modelFolder(paths.modelsDir, m)} (not there yet)`}`);
    io.out(`  source:   ${m.repo} @ ${m.revision.slice(0, 12)}`);
    if (best && !best.ok) {
      for (const f of best.files.filter((x) => x.problem)) io.out(`    ${f.path}: ${f.problem}`);
    }
    if (!best?.ok) io.out(`  fix:      isartor models pull --model ${m.name}`);
  }
}

/** Draws download progress: a bar on a terminal, a line per quarter otherwise. */
export function progressRenderer(io: CliIO): { event(e: PullEvent): void; end(): void } {
  let tty = io.isTty;
  try {
    tty = tty && Deno.stderr.isTerminal();
  } catch {
    tty = false;
  }
  const encoder = new TextEncoder();
  let lastDraw = 0;
  let lastQuarter = new Map<string, number>();
  const clear = () => tty && Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  return {
    event(e) {
      if (e.kind === "file") {
        clear();
        const how = e.action === "present" ? "already present" : e.action.replaceAll("_", " ");
        io.out(`  ${style(io, "✓", "green")} ${e.path}  ${formatBytes(e.bytes)}  ${how}, verified`);
        lastQuarter = new Map();
        return;
      }
      const pct = e.total > 0 ? e.received / e.total : 1;
      const speed = e.elapsedS > 0 ? e.transferred / e.elapsedS : 0;
      const text = `${e.path}  ${Math.floor(pct * 100)}%  ${formatBytes(e.received)} of ${
        formatBytes(e.total)
      }  ${formatBytes(Math.round(speed))}/s`;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 80 && e.received < e.total) return;
        lastDraw = now;
        const width = 24;
        const full = Math.round(pct * width);
        const bar = `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
        Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K  ${bar} ${text}`));
        return;
      }
      const quarter = Math.floor(pct * 4);
      if (quarter > 0 && quarter > (lastQuarter.get(e.path) ?? 0)) {
        lastQuarter.set(e.path, quarter);
        io.out(`    ${text}`);
      }
    },
    end: () => void clear(),
  };
}

function parseVariants(v: string | undefined, m: ModelManifest): ModelVariant[] {
  const all = variantsOf(m);
  if (v === undefined) return all.includes("q8") ? ["q8"] : all.slice(0, 1);
  if (v === "all") return all;
  if (!(all as string[]).includes(v)) {
    throw new UsageError(`--variant must be one of ${[...all, "all"].join(", ")}, got "${v}"`);
  }
  return [v as ModelVariant];
}

async function pull(
  io: CliIO,
  paths: ModelPaths,
  m: ModelManifest,
  opts: { variants: ModelVariant[]; from?: string; json: boolean; deps: ModelsDeps },
): Promise<number> {
  const source = opts.from ? `from ${opts.from}` : `from ${paths.endpoint}`;
  if (!opts.json) {
    io.out(
      `Pulling ${m.name} (${m.repo} @ ${m.revision.slice(0, 12)}, ${
        opts.variants.join(" + ")
      }) ${source}`,
    );
  }
  const render = opts.json ? null : progressRenderer(io);
  const started = performance.now();
  try {
    const result = await pullModel(m, {
      paths,
      variants: opts.variants,
      from: opts.from,
      fetch: opts.deps.fetch,
      retries: opts.deps.retries,
      onEvent: render ? (e) => render.event(e) : undefined,
    });
    render?.end();
    const seconds = (performance.now() - started) / 1000;
    const bytes = result.files.reduce((a, f) => a + (f.action === "present" ? 0 : f.bytes), 0);
    if (opts.json) {
      io.out(
        JSON.stringify(
          { ok: true, model: m.name, folder: result.folder, files: result.files },
          null,
          2,
        ),
      );
    } else {
      io.out(`Done: ${result.folder} (${formatBytes(bytes)} fetched in ${seconds.toFixed(1)} s)`);
    }
    return EXIT.ok;
  } catch (e) {
    render?.end();
    const message = e instanceof ModelError ? e.message : `${(e as Error).message}`;
    if (opts.json) io.out(JSON.stringify({ ok: false, model: m.name, error: message }, null, 2));
    io.err(style(io, `isartor models pull: ${message}`, "red"));
    return EXIT.failure;
  }
}

/** Runs `isartor models`. */
export async function runModels(args: string[], io: CliIO, deps: ModelsDeps = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      variant: { type: "string" },
      from: { type: "string" },
      dir: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [verb, ...extra] = positionals;
  if (values.help) {
    io.out(verb === "pull" ? pullUsage : verb === "list" ? listUsage : usage);
    return EXIT.ok;
  }
  if (verb !== "list" && verb !== "pull") {
    throw new UsageError(
      verb ? `unknown subcommand "${verb}" (use list or pull)` : "say list or pull",
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const models = deps.models ?? ALL_MODELS;
  const config = deps.config ?? loadCliConfig({}, { warn: io.err }).config;
  const paths = modelPaths(config, deps.env ?? processEnv());
  if (values.dir) paths.modelsDir = values.dir.replace(/\/+$/, "");
  if (verb === "list") {
    await list(io, paths, models, values.json);
    return EXIT.ok;
  }
  const m = values.model ? findModel(values.model, models) : models[0];
  if (!m) {
    throw new UsageError(
      `unknown model "${values.model}"; known: ${models.map((x) => x.name).join(", ")}`,
    );
  }
  const targets = [m];
  // Without --model, the router model comes too when L2 would load it.
  const router = models.find((x) => x.role === "router");
  const wantsRouter = config.enable_slm_router && !isRemoteRouter(config) && !config.model_path;
  if (!values.model && router && router !== m && wantsRouter && !values.from) targets.push(router);
  let code: number = EXIT.ok;
  for (const target of targets) {
    const result = await pull(io, paths, target, {
      variants: parseVariants(target === m ? values.variant : undefined, target),
      from: values.from,
      json: values.json,
      deps,
    });
    if (result !== EXIT.ok) code = result;
  }
  return code;
}
