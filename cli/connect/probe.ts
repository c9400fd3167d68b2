/**
 * The live test of `connect status`: one small request through the gateway
 * in the connected tool's own protocol (Anthropic Messages for Claude Code,
 * the Responses API for Codex, Gemini's generateContent for Gemini CLI,
 * OpenAI chat for the rest, an MCP `initialize` for the tools that only host
 * the MCP server), with the credential in the header that tool sends. The
 * answer's `X-Isartor-Layer` says which layer answered.
 *
 * @module
 */

import { VERSION } from "../../src/version.ts";
import { type ConnectContext, type ConnectTarget, tokenFor } from "./target.ts";

/** The protocol a tool's live test speaks. */
export type ProbeProtocol = ConnectTarget["probe"];

/** The live test's outcome. */
export interface ProbeStatus {
  protocol: ProbeProtocol;
  /** The path asked. */
  path: string;
  ok: boolean;
  status: number | null;
  /** `X-Isartor-Layer` (l1a, l1b, l3...), `mcp` for the MCP server, null when unknown. */
  layer: string | null;
  provider: string | null;
  error?: string;
}

const PROMPT = "isartor connect status: reply with ok";

interface ProbeRequest {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** The request a tool of `protocol` would send (its header style, its body shape). */
export function probeRequest(protocol: ProbeProtocol, ctx: ConnectContext): ProbeRequest {
  const token = tokenFor(ctx);
  const bearer = { authorization: `Bearer ${token}` };
  const model = ctx.defaultModel;
  switch (protocol) {
    case "anthropic":
      return {
        path: "/v1/messages",
        headers: { ...bearer, "anthropic-version": "2023-06-01" },
        body: { model, max_tokens: 8, messages: [{ role: "user", content: PROMPT }] },
      };
    case "openai_responses":
      return {
        path: "/v1/responses",
        headers: bearer,
        body: { model, input: PROMPT, max_output_tokens: 16 },
      };
    case "gemini":
      return {
        path: `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
        headers: { "x-goog-api-key": token },
        body: {
          contents: [{ role: "user", parts: [{ text: PROMPT }] }],
          generationConfig: { maxOutputTokens: 8 },
        },
      };
    case "mcp":
      return {
        path: "/mcp",
        headers: { ...bearer, accept: "application/json, text/event-stream" },
        body: {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-11-25",
            capabilities: {},
            clientInfo: { name: "isartor-connect-status", version: VERSION },
          },
        },
      };
    case "openai_chat":
      return {
        path: "/v1/chat/completions",
        headers: bearer,
        body: { model, messages: [{ role: "user", content: PROMPT }], max_tokens: 8 },
      };
  }
}

/** Sends one tool's live test through the gateway. */
export async function probeTool(
  protocol: ProbeProtocol,
  ctx: ConnectContext,
  fetchFn: typeof fetch = fetch,
): Promise<ProbeStatus> {
  const r = probeRequest(protocol, ctx);
  const out: ProbeStatus = {
    protocol,
    path: r.path,
    ok: false,
    status: null,
    layer: null,
    provider: null,
  };
  try {
    const res = await fetchFn(`${ctx.gatewayUrl}${r.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...r.headers },
      body: JSON.stringify(r.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    out.status = res.status;
    out.ok = res.ok;
    out.layer = res.headers.get("x-isartor-layer");
    out.provider = res.headers.get("x-isartor-provider");
    if (protocol === "mcp") {
      out.ok = res.ok && text.includes('"serverInfo"');
      out.layer = out.ok ? "mcp" : null;
      // The test's session ends at once rather than idling until it expires.
      const session = res.headers.get("mcp-session-id");
      if (session) {
        await fetchFn(`${ctx.gatewayUrl}${r.path}`, {
          method: "DELETE",
          headers: { ...r.headers, "mcp-session-id": session },
          signal: AbortSignal.timeout(10_000),
        }).then((d) => d.body?.cancel()).catch(() => {});
      }
    }
    if (!out.ok) out.error = errorText(text);
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

function errorText(text: string): string {
  try {
    const body = JSON.parse(text);
    const msg = body?.error?.message ?? body?.[0]?.error?.message ?? body?.message;
    if (typeof msg === "string") return msg.slice(0, 200);
  } catch { /* not JSON */ }
  return text.replace(/\s+/g, " ").slice(0, 200);
}
