/**
 * GitHub Copilot's short-lived API tokens. The stored key of the `copilot`
 * provider is a GitHub OAuth token (from the device flow); Copilot's API takes
 * only the token that `GET https://api.github.com/copilot_internal/v2/token`
 * gives for it:
 *
 * ```json
 * { "token": "tid=...;exp=...", "expires_at": 1765100000, "refresh_in": 1500,
 *   "endpoints": { "api": "https://api.individual.githubcopilot.com" } }
 * ```
 *
 * A session is kept per GitHub token and exchanged again before it expires
 * (after `refresh_in`, else a minute before `expires_at`), once for all the
 * requests waiting on it. The API base the token names is used only when its
 * host is on the provider's allow-list, so the Copilot token never goes to a
 * host the user did not allow.
 *
 * @module
 */

/** One exchanged token. */
export interface CopilotSession {
  /** The bearer token for Copilot's API. */
  token: string;
  /** The API base the token names (`endpoints.api`), when allowed; else null. */
  apiBase: string | null;
  /** Epoch ms after which the token is refused. */
  expiresAt: number;
  /** Epoch ms from which it is exchanged again before use. */
  refreshAt: number;
}

/** The exchange failed: GitHub refused the token, or could not be reached. */
export class ProviderAuthError extends Error {
  override name = "ProviderAuthError";
  /** `refused`: the GitHub token is no good (do not retry with it); `unavailable`: try later. */
  constructor(readonly kind: "refused" | "unavailable", message: string) {
    super(message);
  }
}

/** How {@linkcode CopilotTokens} reaches GitHub, and what it may trust. */
export interface CopilotTokenOptions {
  /** The exchange endpoint. */
  tokenUrl: string;
  /** Headers GitHub expects besides the token (editor identification). */
  headers: Readonly<Record<string, string>>;
  /** Whether an API base the token names may be used (its host is allowed). */
  allowBase: (url: string) => boolean;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Injected for tests: the clock, epoch ms. */
  now?: () => number;
  /** Most ms an exchange may take. */
  timeoutMs?: number;
}

/** Exchanged again this long before `expires_at` when no `refresh_in` came. */
const EXPIRY_MARGIN_MS = 60_000;

/** The fix the messages point to. */
const SIGN_IN =
  "sign in again: isartor set-key -p copilot --device (or isartor connect claude-copilot)";

/**
 * Exchanges GitHub tokens for Copilot API tokens and keeps them fresh.
 *
 * @example
 * ```ts
 * const tokens = new CopilotTokens({
 *   tokenUrl: "https://api.github.com/copilot_internal/v2/token",
 *   headers: {},
 *   allowBase: (u) => new URL(u).hostname.endsWith(".githubcopilot.com"),
 * });
 * const s = await tokens.session("gho_...");
 * // fetch(`${s.apiBase ?? "https://api.githubcopilot.com"}/chat/completions`, { headers: { authorization: `Bearer ${s.token}` } })
 * ```
 */
export class CopilotTokens {
  readonly #opts: CopilotTokenOptions;
  readonly #sessions = new Map<string, CopilotSession>();
  readonly #pending = new Map<string, Promise<CopilotSession>>();
  #exchanges = 0;

  constructor(opts: CopilotTokenOptions) {
    this.#opts = opts;
  }

  /** How many exchanges were sent (for tests and stats). */
  get exchanges(): number {
    return this.#exchanges;
  }

  /** A valid session for a GitHub token: the cached one, or a fresh exchange. */
  session(githubToken: string): Promise<CopilotSession> {
    const now = (this.#opts.now ?? Date.now)();
    const cached = this.#sessions.get(githubToken);
    if (cached && now < cached.refreshAt) return Promise.resolve(cached);
    let p = this.#pending.get(githubToken);
    if (!p) {
      p = this.#exchange(githubToken).finally(() => this.#pending.delete(githubToken));
      this.#pending.set(githubToken, p);
    }
    if (!cached || now >= cached.expiresAt - 5_000) return p;
    // Still valid: a failed early refresh falls back to it.
    return p.catch(() => cached);
  }

  /** Forgets a session Copilot refused (a 401), unless a newer one replaced it. */
  invalidate(githubToken: string, token: string): void {
    if (this.#sessions.get(githubToken)?.token === token) this.#sessions.delete(githubToken);
  }

  async #exchange(githubToken: string): Promise<CopilotSession> {
    const opts = this.#opts;
    const host = new URL(opts.tokenUrl).host;
    this.#exchanges++;
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(opts.tokenUrl, {
        headers: {
          ...opts.headers,
          accept: "application/json",
          // GitHub's API takes OAuth tokens in the `token` scheme here.
          authorization: `token ${githubToken}`,
        },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new ProviderAuthError(
        "unavailable",
        `cannot reach ${host} to get a Copilot token: ${
          (e as Error).message
        }; fix: check the network`,
      );
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch { /* reported below */ }
    const said = typeof body.message === "string" ? ` (${body.message})` : "";
    if (res.status === 401) {
      throw new ProviderAuthError(
        "refused",
        `GitHub refused the stored token${said}; fix: ${SIGN_IN}`,
      );
    }
    if (res.status === 403 || res.status === 404) {
      throw new ProviderAuthError(
        "refused",
        `GitHub gave no Copilot token (HTTP ${res.status}${said}): the account may have no Copilot ` +
          `subscription, or the token is not one from Copilot's device flow; fix: ${SIGN_IN}`,
      );
    }
    const token = body.token;
    const expires = Number(body.expires_at);
    if (!res.ok || typeof token !== "string" || !token || !Number.isFinite(expires)) {
      throw new ProviderAuthError(
        "unavailable",
        `${host} answered HTTP ${res.status} without a Copilot token${said}; fix: try again later`,
      );
    }
    const now = (opts.now ?? Date.now)();
    const expiresAt = expires * 1000;
    const refreshIn = Number(body.refresh_in);
    const refreshAt = Math.min(
      expiresAt - EXPIRY_MARGIN_MS,
      Number.isFinite(refreshIn) && refreshIn > 0 ? now + refreshIn * 1000 : Infinity,
    );
    const api = (body.endpoints as Record<string, unknown> | undefined)?.api;
    const session: CopilotSession = {
      token,
      apiBase: typeof api === "string" && acceptable(api, opts.allowBase)
        ? api.replace(/\/+$/, "")
        : null,
      expiresAt,
      refreshAt,
    };
    this.#sessions.set(githubToken, session);
    return session;
  }
}

function acceptable(url: string, allow: (url: string) => boolean): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === "https:" || u.protocol === "http:") && allow(url);
  } catch {
    return false;
  }
}
