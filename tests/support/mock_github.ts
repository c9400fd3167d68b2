/**
 * A mock of the GitHub endpoints the `copilot` provider uses, on 127.0.0.1:
 * the Copilot token exchange (`GET /copilot_internal/v2/token`, shaped as
 * GitHub answers it) and the OAuth device flow (`POST /login/device/code`,
 * `POST /login/oauth/access_token`, answering from a script).
 *
 * @module
 */

/** One request the mock saw. */
export interface GithubSeen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
}

/** Options of {@linkcode startMockGithub}. */
export interface MockGithubOptions {
  /** The GitHub token the exchange accepts (others get 401). Default `gho_mock_token`. */
  githubToken?: string;
  /** Seconds until an issued Copilot token expires. Default 1800. */
  ttlSecs?: number;
  /** `refresh_in` of issued tokens; omitted when null. Default 1500. */
  refreshInSecs?: number | null;
  /** `endpoints.api` of issued tokens; omitted when undefined. */
  apiBase?: string;
  /** Answers to successive access-token polls (the last repeats). */
  polls?: Record<string, unknown>[];
  /** The device code answer's `interval`. Default 5. */
  interval?: number;
}

/** A running mock. */
export interface MockGithub extends AsyncDisposable {
  url: string;
  /** Every request, in order. */
  seen: GithubSeen[];
  /** The Copilot tokens issued, in order (`cop-1`, `cop-2`, ...). */
  issued: string[];
  /** Answer the next exchanges with this status instead (FIFO). */
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

/** The device code the mock hands out. */
export const MOCK_DEVICE_CODE = "dc-mock-0001";
/** The user code the mock hands out. */
export const MOCK_USER_CODE = "ABCD-1234";

/** Starts the mock. */
export function startMockGithub(opts: MockGithubOptions = {}): MockGithub {
  const accepted = opts.githubToken ?? "gho_mock_token";
  const seen: GithubSeen[] = [];
  const issued: string[] = [];
  const failures: number[] = [];
  let poll = 0;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const text = req.method === "POST" ? await req.text() : "";
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch { /* recorded as null */ }
    seen.push({
      method: req.method,
      path: url.pathname,
      headers: Object.fromEntries(req.headers),
      body,
    });
    if (req.method === "GET" && url.pathname === "/copilot_internal/v2/token") {
      const fail = failures.shift();
      if (fail) return json(fail, { message: fail === 404 ? "Not Found" : "mock failure" });
      if (req.headers.get("authorization") !== `token ${accepted}`) {
        return json(401, { message: "Bad credentials" });
      }
      const token = `cop-${issued.length + 1}`;
      issued.push(token);
      const answer: Record<string, unknown> = {
        token,
        expires_at: Math.floor(Date.now() / 1000) + (opts.ttlSecs ?? 1800),
        chat_enabled: true,
        sku: "copilot_for_individuals_subscriber",
      };
      const refreshIn = opts.refreshInSecs === undefined ? 1500 : opts.refreshInSecs;
      if (refreshIn !== null) answer.refresh_in = refreshIn;
      if (opts.apiBase !== undefined) answer.endpoints = { api: opts.apiBase };
      return json(200, answer);
    }
    if (req.method === "POST" && url.pathname === "/login/device/code") {
      return json(200, {
        device_code: MOCK_DEVICE_CODE,
        user_code: MOCK_USER_CODE,
        verification_uri: "https://github.com/login/device",
        expires_in: 900,
        interval: opts.interval ?? 5,
      });
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const script = opts.polls ?? [{ access_token: accepted, token_type: "bearer", scope: "" }];
      // GitHub answers 200 with an `error` field while the user has not yet approved.
      return json(200, script[Math.min(poll++, script.length - 1)]);
    }
    return json(404, { message: "Not Found" });
  });
  const close = () => server.shutdown();
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    issued,
    failNext: (...s) => failures.push(...s),
    close,
    [Symbol.asyncDispose]: close,
  };
}
