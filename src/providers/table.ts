/**
 * The provider table: every cloud provider isartor can call, as data.
 *
 * Adding a provider is adding a row: its base URL, how it wants the key, which
 * wire protocol it speaks and a sensible default model. No code per provider.
 *
 * @module
 */

import type { WireProtocol } from "../protocol/events.ts";

/** How a provider expects its API key. */
export type AuthStyle =
  /** `Authorization: Bearer <key>` */
  | "bearer"
  /** `x-api-key: <key>` plus `anthropic-version` when the client sent none */
  | "x-api-key"
  /** `api-key: <key>` (Azure OpenAI) */
  | "api-key"
  /** `x-goog-api-key: <key>` (the Gemini API) */
  | "x-goog-api-key"
  /** no key at all (local servers) */
  | "none"
  /**
   * The key is a GitHub OAuth token, exchanged for a short-lived Copilot API
   * token (`tokenUrl`), sent as `Authorization: Bearer` (src/providers/copilot_token.ts).
   */
  | "copilot";

/** One row of the table. */
export interface ProviderSpec {
  /** The name users write in `llm_provider` and `set-key -p`. */
  name: string;
  /** Display name for the CLI. */
  label: string;
  /** Base URL; endpoints are appended (`/chat/completions`, `/messages`, `/responses`, `/models`). */
  baseUrl: string;
  auth: AuthStyle;
  /** The protocol of its chat endpoint. */
  protocol: Extract<WireProtocol, "openai_chat" | "anthropic" | "gemini">;
  /** Whether it serves the OpenAI Responses API natively (else Responses requests are translated to chat). */
  responses: boolean;
  /** The model used when none is configured. */
  defaultModel: string;
  /**
   * Whether it serves the model names clients ask for (OpenAI, Anthropic, Azure,
   * OpenRouter). When false, a configured `external_llm_model` replaces the
   * client's model, since "gpt-5" or "claude-sonnet-4-5" means nothing there.
   */
  clientModels: boolean;
  /** Whether it runs on the user's machine (no key needed, no cloud egress). */
  local?: boolean;
  /** Auth `copilot`: where the long-lived key is exchanged for a short-lived token. */
  tokenUrl?: string;
  /** Headers the provider expects on every call (Copilot's editor identification). */
  headers?: Readonly<Record<string, string>>;
  /**
   * More hosts it may send to besides its base URL's (Copilot's per-plan API
   * hosts, which the token names); they join the network allow-list.
   */
  hosts?: readonly string[];
}

/**
 * What GitHub Copilot's API expects a client to say about itself (the values
 * Copilot Chat in VS Code sends; copilot-api, litellm and opencode send the same).
 */
export const COPILOT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "editor-version": "vscode/1.99.3",
  "editor-plugin-version": "copilot-chat/0.26.7",
  "copilot-integration-id": "vscode-chat",
  "user-agent": "GitHubCopilotChat/0.26.7",
  "openai-intent": "conversation-panel",
  "x-github-api-version": "2025-04-01",
});

/** All known providers, keyed by name. */
export const PROVIDERS: Readonly<Record<string, ProviderSpec>> = Object.freeze(
  Object.fromEntries(
    ([
      {
        name: "openai",
        label: "OpenAI",
        baseUrl: "https://api.openai.com/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: true,
        defaultModel: "gpt-4o-mini",
        clientModels: true,
      },
      {
        name: "anthropic",
        label: "Anthropic",
        baseUrl: "https://api.anthropic.com/v1",
        auth: "x-api-key",
        protocol: "anthropic",
        responses: false,
        defaultModel: "claude-sonnet-4-5",
        clientModels: true,
      },
      {
        // The base URL is built from `external_llm_url` (the resource endpoint) and the deployment.
        name: "azure",
        label: "Azure OpenAI",
        baseUrl: "",
        auth: "api-key",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "gpt-4o-mini",
        clientModels: true,
      },
      {
        // Spoken natively: generateContent / streamGenerateContent?alt=sse.
        name: "gemini",
        label: "Google Gemini",
        baseUrl: "https://generativelanguage.googleapis.com/v1beta",
        auth: "x-goog-api-key",
        protocol: "gemini",
        responses: false,
        defaultModel: "gemini-2.5-flash",
        clientModels: false,
      },
      {
        name: "groq",
        label: "Groq",
        baseUrl: "https://api.groq.com/openai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "llama-3.3-70b-versatile",
        clientModels: false,
      },
      {
        name: "openrouter",
        label: "OpenRouter",
        baseUrl: "https://openrouter.ai/api/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "openai/gpt-4o-mini",
        clientModels: true,
      },
      {
        name: "mistral",
        label: "Mistral",
        baseUrl: "https://api.mistral.ai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "mistral-small-latest",
        clientModels: false,
      },
      {
        name: "deepseek",
        label: "DeepSeek",
        baseUrl: "https://api.deepseek.com/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "deepseek-chat",
        clientModels: false,
      },
      {
        name: "xai",
        label: "xAI",
        baseUrl: "https://api.x.ai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "grok-3-mini",
        clientModels: false,
      },
      {
        name: "together",
        label: "Together AI",
        baseUrl: "https://api.together.xyz/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        clientModels: false,
      },
      {
        name: "fireworks",
        label: "Fireworks AI",
        baseUrl: "https://api.fireworks.ai/inference/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "accounts/fireworks/models/llama-v3p3-70b-instruct",
        clientModels: false,
      },
      {
        name: "cerebras",
        label: "Cerebras",
        baseUrl: "https://api.cerebras.ai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "llama-3.3-70b",
        clientModels: false,
      },
      {
        name: "cohere",
        label: "Cohere (OpenAI-compatible endpoint)",
        baseUrl: "https://api.cohere.ai/compatibility/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "command-a-03-2025",
        clientModels: false,
      },
      {
        name: "nvidia",
        label: "NVIDIA NIM",
        baseUrl: "https://integrate.api.nvidia.com/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "meta/llama-3.1-8b-instruct",
        clientModels: false,
      },
      {
        name: "perplexity",
        label: "Perplexity",
        baseUrl: "https://api.perplexity.ai",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "sonar",
        clientModels: false,
      },
      {
        name: "nebius",
        label: "Nebius AI Studio",
        baseUrl: "https://api.studio.nebius.com/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "meta-llama/Meta-Llama-3.1-70B-Instruct",
        clientModels: false,
      },
      {
        name: "siliconflow",
        label: "SiliconFlow",
        baseUrl: "https://api.siliconflow.cn/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "Qwen/Qwen2.5-7B-Instruct",
        clientModels: false,
      },
      {
        name: "moonshot",
        label: "Moonshot AI",
        baseUrl: "https://api.moonshot.ai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "moonshot-v1-8k",
        clientModels: false,
      },
      {
        name: "huggingface",
        label: "Hugging Face Inference Providers",
        baseUrl: "https://router.huggingface.co/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "meta-llama/Llama-3.1-8B-Instruct",
        clientModels: false,
      },
      {
        name: "hyperbolic",
        label: "Hyperbolic",
        baseUrl: "https://api.hyperbolic.xyz/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "meta-llama/Llama-3.3-70B-Instruct",
        clientModels: false,
      },
      {
        name: "chutes",
        label: "Chutes",
        baseUrl: "https://llm.chutes.ai/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "deepseek-ai/DeepSeek-V3-0324",
        clientModels: false,
      },
      {
        name: "galadriel",
        label: "Galadriel",
        baseUrl: "https://api.galadriel.com/v1",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "llama3.1:70b",
        clientModels: false,
      },
      {
        // A GitHub Copilot subscription: the stored key is the GitHub token.
        name: "copilot",
        label: "GitHub Copilot (subscription)",
        baseUrl: "https://api.githubcopilot.com",
        auth: "copilot",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "claude-sonnet-4.5",
        clientModels: false,
        tokenUrl: "https://api.github.com/copilot_internal/v2/token",
        headers: COPILOT_HEADERS,
        hosts: [
          "api.individual.githubcopilot.com",
          "api.business.githubcopilot.com",
          "api.enterprise.githubcopilot.com",
        ],
      },
      {
        name: "ollama",
        label: "Ollama (local)",
        baseUrl: "http://127.0.0.1:11434/v1",
        auth: "none",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "llama3.2",
        clientModels: false,
        local: true,
      },
      {
        name: "lmstudio",
        label: "LM Studio (local)",
        baseUrl: "http://127.0.0.1:1234/v1",
        auth: "none",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "local-model",
        clientModels: false,
        local: true,
      },
      {
        // Any OpenAI-compatible server: `external_llm_url` is required.
        name: "openai_compatible",
        label: "OpenAI-compatible server",
        baseUrl: "",
        auth: "bearer",
        protocol: "openai_chat",
        responses: false,
        defaultModel: "",
        clientModels: false,
      },
    ] satisfies ProviderSpec[]).map((p) => [p.name, Object.freeze(p)]),
  ),
);

/** The provider names, for validation and help text. */
export const PROVIDER_NAMES: readonly string[] = Object.keys(PROVIDERS);

/** Endpoint suffixes a user may paste as part of `external_llm_url`; stripped to get the base URL. */
const ENDPOINT_SUFFIXES = [
  "/chat/completions",
  "/messages",
  "/responses",
  "/completions",
  "/models",
];

/**
 * Turns a configured URL into a base URL: a full endpoint URL is accepted too.
 *
 * @example
 * ```ts
 * normalizeBaseUrl("https://api.groq.com/openai/v1/chat/completions"); // "https://api.groq.com/openai/v1"
 * ```
 */
export function normalizeBaseUrl(url: string): string {
  // A URL pasted from a portal may carry a query (Azure's ?api-version=): the base has none.
  let u = url.trim().replace(/[?#].*$/, "").replace(/\/+$/, "");
  for (const suffix of ENDPOINT_SUFFIXES) {
    if (u.endsWith(suffix)) {
      u = u.slice(0, -suffix.length);
      break;
    }
  }
  return u;
}
