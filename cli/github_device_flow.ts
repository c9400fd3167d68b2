/**
 * GitHub's OAuth device flow (RFC 8628) with Copilot's OAuth app, for the
 * `copilot` provider: `POST /login/device/code` gives a code the user enters
 * at github.com/login/device; `POST /login/oauth/access_token` is polled
 * until GitHub hands out the OAuth token (`authorization_pending`: keep
 * polling; `slow_down`: wait 5 s longer; `expired_token`: give up). That token
 * is what the gateway exchanges for Copilot tokens (src/providers/copilot_token.ts).
 *
 * @module
 */

/** The OAuth app of GitHub Copilot's editor plugins (the one Copilot's token exchange accepts). */
export const COPILOT_CLIENT_ID = "Iv1.b507a08c87ecfe98";

/** GitHub's web origin. */
export const GITHUB_URL = "https://github.com";

/** The code to show the user. */
export interface DeviceCode {
  userCode: string;
  verificationUri: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

/** Options of {@linkcode githubDeviceFlow}. */
export interface DeviceFlowOptions {
  /** GitHub's web origin (`copilot_github_url`; tests point it at a mock). */
  githubUrl?: string;
  clientId?: string;
  /** Called once with the code to show. */
  onCode: (code: DeviceCode) => void;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Injected for tests: waits between polls. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: the clock, epoch ms. */
  now?: () => number;
}

/** The flow ended without a token; the message says what to do. */
export class DeviceFlowError extends Error {
  override name = "DeviceFlowError";
}

/** What RFC 8628 §3.5 says to add to the interval on `slow_down`. */
const SLOW_DOWN_MS = 5_000;

async function post(
  opts: DeviceFlowOptions,
  path: string,
  body: Record<string, string>,
): Promise<Record<string, unknown>> {
  const url = `${(opts.githubUrl || GITHUB_URL).replace(/\/+$/, "")}${path}`;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "user-agent": "isartor",
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new DeviceFlowError(`cannot reach ${new URL(url).host}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* below */ }
  if (!res.ok || typeof json !== "object" || json === null) {
    throw new DeviceFlowError(`${url} answered HTTP ${res.status}: ${text.slice(0, 160)}`);
  }
  return json as Record<string, unknown>;
}

/**
 * Runs the device flow; resolves to the GitHub OAuth token.
 *
 * @example
 * ```ts
 * const token = await githubDeviceFlow({
 *   onCode: (c) => console.error(`open ${c.verificationUri} and enter ${c.userCode}`),
 * });
 * ```
 */
export async function githubDeviceFlow(opts: DeviceFlowOptions): Promise<string> {
  const clientId = opts.clientId ?? COPILOT_CLIENT_ID;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const code = await post(opts, "/login/device/code", { client_id: clientId, scope: "read:user" });
  const deviceCode = code.device_code;
  if (typeof deviceCode !== "string" || typeof code.user_code !== "string") {
    throw new DeviceFlowError(`GitHub's device code answer has no code: ${JSON.stringify(code)}`);
  }
  const expiresIn = Number(code.expires_in) > 0 ? Number(code.expires_in) : 900;
  opts.onCode({
    userCode: code.user_code,
    verificationUri: typeof code.verification_uri === "string"
      ? code.verification_uri
      : `${GITHUB_URL}/login/device`,
    expiresIn,
  });
  let intervalMs = (Number.isFinite(Number(code.interval)) ? Number(code.interval) : 5) * 1000;
  const deadline = now() + expiresIn * 1000;
  const expired = () =>
    new DeviceFlowError(
      "the code expired before it was entered on GitHub; run the command again and enter the new code",
    );
  while (true) {
    await sleep(intervalMs);
    if (now() >= deadline) throw expired();
    const answer = await post(opts, "/login/oauth/access_token", {
      client_id: clientId,
      device_code: deviceCode,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    });
    if (typeof answer.access_token === "string" && answer.access_token) return answer.access_token;
    switch (answer.error) {
      case "authorization_pending":
        continue;
      case "slow_down":
        // GitHub says the new interval; else RFC 8628's five seconds more.
        intervalMs = Number(answer.interval) > 0
          ? Number(answer.interval) * 1000
          : intervalMs + SLOW_DOWN_MS;
        continue;
      case "expired_token":
        throw expired();
      case "access_denied":
        throw new DeviceFlowError("the sign-in was cancelled on GitHub; nothing was stored");
      default:
        throw new DeviceFlowError(
          `GitHub refused the device flow: ${answer.error ?? "no token"}${
            typeof answer.error_description === "string" ? ` (${answer.error_description})` : ""
          }`,
        );
    }
  }
}

/**
 * The device flow for a command: the code and the URL go to stderr (stdout
 * stays the command's own output), then it waits for the user.
 */
export function signInToGithub(
  err: (line: string) => void,
  githubUrl: string,
  extra: Partial<DeviceFlowOptions> = {},
): Promise<string> {
  return githubDeviceFlow({
    githubUrl,
    onCode: (c) => {
      err(
        `To sign in to GitHub Copilot, open ${c.verificationUri} and enter the code ${c.userCode}`,
      );
      err(`(waiting for GitHub; the code expires in ${Math.round(c.expiresIn / 60)} minutes)`);
    },
    ...extra,
  });
}
