/**
 * Opt-in request/response body logging (`enable_request_logs`), for debugging
 * an integration: one JSON line per exchange in
 * `<request_log_path>/request_bodies.jsonl`, with the method, path, status,
 * headers and both bodies.
 *
 * Credentials never reach the file: auth headers are replaced by
 * `[redacted]`, a `key=` query parameter too, and in bodies every configured
 * secret and every string shaped like a provider or gateway key. Each body is
 * capped ({@linkcode BODY_LOG_MAX_BODY_BYTES}), the file rotates past
 * {@linkcode BODY_LOG_MAX_FILE_BYTES} keeping {@linkcode BODY_LOG_ROTATIONS}
 * old files, and files are 0600 in a 0700 folder. A streamed answer is relayed
 * as it arrives; its first bytes are copied on the way.
 *
 * @module
 */

/** The file name inside `request_log_path`. */
export const BODY_LOG_FILE = "request_bodies.jsonl";
/** Most bytes of each body kept per line. */
export const BODY_LOG_MAX_BODY_BYTES = 16 * 1024;
/** Rotation threshold of the file. */
export const BODY_LOG_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Old files kept (`.1` … `.5`). */
export const BODY_LOG_ROTATIONS = 5;

const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "set-cookie",
]);

/** Strings shaped like keys: OpenAI/Anthropic/Groq-style `sk-`, Google `AIza`, ours `isk-`, bearer tokens. */
const KEY_SHAPES =
  /\b(?:sk-[A-Za-z0-9_-]{12,}|sk_[A-Za-z0-9_-]{12,}|isk-[A-Za-z0-9_-]{12,}|gsk_[A-Za-z0-9]{12,}|AIza[0-9A-Za-z_-]{20,}|xai-[A-Za-z0-9]{12,}|ghp_[A-Za-z0-9]{20,}|gho_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,})|(?<=Bearer\s+)[^\s"]+/g;

/** Headers as a record, credentials replaced by `[redacted]`. */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k] = SECRET_HEADERS.has(k) ? "[redacted]" : v;
  return out;
}

/** Options of {@linkcode BodyLog}. */
export interface BodyLogOptions {
  /** The folder (created 0700). */
  dir: string;
  /** Secrets to blank wherever they appear (configured provider, gateway and admin keys). */
  secrets?: readonly string[];
  maxBodyBytes?: number;
  /** Request bodies declared larger (or of unknown length) are not read here (`max_request_body_bytes`). */
  maxRequestBytes?: number;
  maxFileBytes?: number;
  rotations?: number;
  warn?: (message: string) => void;
}

/** One logged exchange. */
export interface BodyLogLine {
  time: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  layer: string | null;
  request_headers: Record<string, string>;
  request_body: string;
  request_body_truncated: boolean;
  response_headers: Record<string, string>;
  response_body: string;
  response_body_truncated: boolean;
}

const decoder = new TextDecoder();

/** The redacting, capped, rotating writer. */
export class BodyLog {
  readonly path: string;
  readonly #secrets: string[];
  readonly #maxBody: number;
  readonly #maxFile: number;
  readonly #rotations: number;
  readonly #warn: (m: string) => void;
  #writing: Promise<void> = Promise.resolve();
  #size: number | null = null;
  #warned = false;

  constructor(readonly options: BodyLogOptions) {
    this.path = `${options.dir.replace(/[\\/]+$/, "")}/${BODY_LOG_FILE}`;
    // Longest first, so a secret that contains another is blanked whole.
    this.#secrets = [...new Set((options.secrets ?? []).filter((s) => s.length >= 8))]
      .sort((a, b) => b.length - a.length);
    this.#maxBody = options.maxBodyBytes ?? BODY_LOG_MAX_BODY_BYTES;
    this.#maxFile = options.maxFileBytes ?? BODY_LOG_MAX_FILE_BYTES;
    this.#rotations = options.rotations ?? BODY_LOG_ROTATIONS;
    this.#warn = options.warn ?? ((m) => console.error(`[isartor] ${m}`));
  }

  /** Text with every configured secret and key-shaped string blanked. */
  redact(text: string): string {
    for (const s of this.#secrets) text = text.split(s).join("[redacted]");
    return text.replace(KEY_SHAPES, "[redacted]");
  }

  /** A body's first bytes as redacted text, and whether it was cut. */
  body(bytes: Uint8Array, total = bytes.byteLength): { text: string; truncated: boolean } {
    const cut = bytes.byteLength > this.#maxBody ? bytes.subarray(0, this.#maxBody) : bytes;
    return { text: this.redact(decoder.decode(cut)), truncated: total > cut.byteLength };
  }

  /** Queues one line. */
  append(line: BodyLogLine): Promise<void> {
    const text = JSON.stringify(line) + "\n";
    this.#writing = this.#writing.then(() => this.#write(text));
    return this.#writing;
  }

  async #write(text: string): Promise<void> {
    try {
      if (this.#size === null) {
        await Deno.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
        await Deno.chmod(this.options.dir, 0o700).catch(() => {});
        this.#size = await Deno.stat(this.path).then((s) => s.size, () => 0);
      }
      if (this.#size > 0 && this.#size + text.length > this.#maxFile) {
        for (let i = this.#rotations - 1; i >= 1; i--) {
          await Deno.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
        }
        await Deno.rename(this.path, `${this.path}.1`);
        await Deno.remove(`${this.path}.${this.#rotations + 1}`).catch(() => {});
        this.#size = 0;
      }
      await Deno.writeTextFile(this.path, text, { append: true, mode: 0o600 });
      if (this.#size === 0) await Deno.chmod(this.path, 0o600);
      this.#size += text.length;
    } catch (e) {
      this.#size = null;
      if (!this.#warned) this.#warn(`cannot write ${this.path}: ${(e as Error).message}`);
      this.#warned = true;
    }
  }

  /** Waits for queued lines. */
  flush(): Promise<void> {
    return this.#writing;
  }
}

/** The body log's folder: `request_log_path`, else `<data_dir>/request_logs`. */
export function requestLogDir(config: { request_log_path: string; data_dir: string }): string {
  return config.request_log_path || `${config.data_dir.replace(/[\\/]+$/, "")}/request_logs`;
}

/** Every secret the configuration holds (to blank in logged bodies). */
export function configuredSecrets(config: {
  gateway_api_key: string;
  admin_api_key: string;
  external_llm_api_key: string;
  provider_keys: readonly { key: string }[];
  fallback_providers: readonly { api_key: string; provider_keys: readonly { key: string }[] }[];
}): string[] {
  return [
    config.gateway_api_key,
    config.admin_api_key,
    config.external_llm_api_key,
    ...config.provider_keys.map((k) => k.key),
    ...config.fallback_providers.flatMap((f) => [f.api_key, ...f.provider_keys.map((k) => k.key)]),
  ].filter((s) => s !== "");
}

/** Copies the first `max` bytes of a stream as it passes, then calls `done` once (end, error or cancel). */
function tap(
  stream: ReadableStream<Uint8Array>,
  max: number,
  done: (head: Uint8Array, total: number) => void,
): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    const head = new Uint8Array(kept);
    let at = 0;
    for (const c of chunks) {
      head.set(c, at);
      at += c.byteLength;
    }
    done(head, total);
  };
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          finish();
          controller.close();
          return;
        }
        total += value.byteLength;
        if (kept < max) {
          const part = value.subarray(0, max - kept);
          chunks.push(part.slice());
          kept += part.byteLength;
        }
        controller.enqueue(value);
      } catch (e) {
        finish();
        controller.error(e);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

/**
 * Wraps the gateway's fetch so each exchange is logged. The request body is
 * read once and handed on as bytes; the response body is relayed unchanged.
 */
export function withBodyLog(
  log: BodyLog,
  inner: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  const max = log.options.maxBodyBytes ?? BODY_LOG_MAX_BODY_BYTES;
  return async (req) => {
    const started = performance.now();
    const url = new URL(req.url);
    const path = log.redact(url.pathname + url.search.replace(/([?&]key=)[^&]*/g, "$1[redacted]"));
    const requestHeaders = redactHeaders(req.headers);
    let bytes = new Uint8Array();
    let forwarded = req;
    let requestBody = { text: "", truncated: false };
    if (req.body) {
      const declared = Number(req.headers.get("content-length") ?? "NaN");
      if (Number.isFinite(declared) && declared <= (log.options.maxRequestBytes ?? Infinity)) {
        bytes = new Uint8Array(await req.arrayBuffer());
        forwarded = new Request(req, { body: bytes });
        requestBody = log.body(bytes);
      } else {
        // Read by the gateway under its own limits, not buffered twice here.
        requestBody = {
          text: "[not logged: no content-length, or over max_request_body_bytes]",
          truncated: true,
        };
      }
    }
    const res = await inner(forwarded);
    const write = (head: Uint8Array, total: number) => {
      const responseBody = log.body(head, total);
      void log.append({
        time: new Date().toISOString(),
        method: req.method,
        path,
        status: res.status,
        latency_ms: Math.round((performance.now() - started) * 10) / 10,
        layer: res.headers.get("x-isartor-layer"),
        request_headers: requestHeaders,
        request_body: requestBody.text,
        request_body_truncated: requestBody.truncated,
        response_headers: redactHeaders(res.headers),
        response_body: responseBody.text,
        response_body_truncated: responseBody.truncated,
      });
    };
    if (!res.body || res.status === 101) {
      write(new Uint8Array(), 0);
      return res;
    }
    return new Response(tap(res.body, max, write), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
