/**
 * Token prices per provider, for the "estimated cost saved" figures.
 *
 * The built-in table holds rough list prices of a typical model of each
 * provider, in USD per million tokens. They are estimates, labelled as such
 * everywhere they are shown; `provider_prices` in the config overrides them.
 *
 * @module
 */

/** A price in USD per million tokens. */
export interface Price {
  input_per_mtok: number;
  output_per_mtok: number;
  /** Prompt tokens served from the provider's own prompt cache (default: a quarter of input). */
  cached_input_per_mtok?: number;
}

/** A price and where it came from. */
export interface PriceInfo extends Price {
  source: "config" | "built-in estimate";
}

/**
 * Built-in estimates: list prices of a typical model per provider (2025).
 * Local servers cost nothing per token.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = Object.freeze({
  openai: { input_per_mtok: 1.25, output_per_mtok: 10 },
  azure: { input_per_mtok: 1.25, output_per_mtok: 10 },
  anthropic: { input_per_mtok: 3, output_per_mtok: 15 },
  gemini: { input_per_mtok: 0.3, output_per_mtok: 2.5 },
  groq: { input_per_mtok: 0.59, output_per_mtok: 0.79 },
  deepseek: { input_per_mtok: 0.27, output_per_mtok: 1.1 },
  mistral: { input_per_mtok: 0.1, output_per_mtok: 0.3 },
  xai: { input_per_mtok: 0.3, output_per_mtok: 0.5 },
  together: { input_per_mtok: 0.88, output_per_mtok: 0.88 },
  fireworks: { input_per_mtok: 0.9, output_per_mtok: 0.9 },
  cerebras: { input_per_mtok: 0.85, output_per_mtok: 1.2 },
  ollama: { input_per_mtok: 0, output_per_mtok: 0 },
  lmstudio: { input_per_mtok: 0, output_per_mtok: 0 },
});

/** The price table in effect: the built-in estimates, overridden per provider by the config. */
export function resolvePrices(
  configured: Readonly<Record<string, Price>>,
): Record<string, PriceInfo> {
  const out: Record<string, PriceInfo> = {};
  for (const [name, p] of Object.entries(DEFAULT_PRICES)) {
    out[name] = { ...p, source: "built-in estimate" };
  }
  for (const [name, p] of Object.entries(configured)) out[name] = { ...p, source: "config" };
  return out;
}

/**
 * The cost of some tokens at a price, in USD; cached prompt tokens are counted
 * at the cached price (savings are net of the provider's own prompt cache).
 *
 * @example
 * ```ts
 * costUsd({ input_per_mtok: 3, output_per_mtok: 15 }, 1_000_000, 0); // 3
 * ```
 */
export function costUsd(price: Price, input: number, output: number, cachedInput = 0): number {
  const cached = Math.min(Math.max(0, cachedInput), input);
  const cachedPrice = price.cached_input_per_mtok ?? price.input_per_mtok / 4;
  return ((input - cached) * price.input_per_mtok + cached * cachedPrice +
    output * price.output_per_mtok) / 1_000_000;
}
