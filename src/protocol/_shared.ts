/**
 * Internal helpers shared by the protocol codecs: JSON narrowing and the
 * accumulation of answer events into whole blocks (for JSON encoders).
 *
 * Not part of the public API of `src/protocol`.
 *
 * @module
 */

import type { AnswerEvent, StopReason, Usage } from "./events.ts";
import { assertJsonDepth, MAX_JSON_DEPTH } from "./json_depth.ts";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` if it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** `v` if it is a finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** `v` if it is an array, else an empty array. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `v` if it is an object, else an empty object. */
export function rec(v: unknown): Json {
  return isRecord(v) ? v : {};
}

/** The `start` event of an answer: its id and model ("" when missing), its creation time when given. */
export function startEvent(id: unknown, model: unknown, created?: unknown): AnswerEvent {
  const ev: AnswerEvent = { type: "start", id: str(id) ?? "", model: str(model) ?? "" };
  const seconds = num(created);
  if (seconds !== undefined) ev.created = seconds;
  return ev;
}

/** Parses a JSON object; anything else (invalid JSON, arrays, scalars) gives `{}`. */
export function parseJsonObject(text: string): Json {
  assertJsonDepth(text, MAX_JSON_DEPTH, "a tool call's arguments");
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

/** Parses the `data` of an SSE event as a JSON object, throwing a descriptive error otherwise. */
export function parseSseJson(data: string, protocol: string): Json {
  let v: unknown;
  assertJsonDepth(data, MAX_JSON_DEPTH, `${protocol} stream data`);
  try {
    v = JSON.parse(data);
  } catch {
    throw new Error(`${protocol} stream: invalid JSON in SSE data: ${data.slice(0, 200)}`);
  }
  if (!isRecord(v)) throw new Error(`${protocol} stream: SSE data is not a JSON object`);
  return v;
}

/** Sets `out[key]` when `value` is defined. */
export function put(out: Json, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

/** Text of a string, or of an array of blocks/parts with a `text` field joined by `sep`. */
export function joinText(content: unknown, sep: string): string {
  if (typeof content === "string") return content;
  return arr(content).filter(isRecord).map((p) => str(p.text)).filter((t) => t !== undefined)
    .join(sep);
}

/**
 * A request field that the target protocol cannot represent (request
 * translation). Public as `TranslationError` from `translate_request.ts`.
 */
export class TranslationError extends Error {
  /** Creates the error; the message says which field and what to do instead. */
  constructor(message: string) {
    super(message);
    this.name = "TranslationError";
  }
}

/** A random id with the given prefix, shaped like the providers' ids. */
export function randomId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** The current Unix time in seconds (the `created` fields). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Merges usage reports: later values win per field. */
export function mergeUsage(into: Partial<Usage>, from: Partial<Usage>): Partial<Usage> {
  const out: Partial<Usage> = { ...into };
  for (const [k, v] of Object.entries(from) as [keyof Usage, number | undefined][]) {
    if (typeof v === "number") out[k] = v;
  }
  return out;
}

/** One block of a collected answer, in the order the events produced it. */
export type AnswerBlock =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string; signature?: string }
  | { kind: "tool"; index: number; id: string; name: string; args: string };

/** A whole answer, accumulated from its events. */
export interface CollectedAnswer {
  /** The upstream's answer id (from `start`). */
  id?: string;
  /** The model that answered (from `start`). */
  model?: string;
  /** Unix seconds (from `start`), when known. */
  created?: number;
  /** Content blocks in order. */
  blocks: AnswerBlock[];
  /** All usage events merged. */
  usage?: Partial<Usage>;
  /** The `stop` event, if the answer completed. */
  stop?: { reason: StopReason; stopSequence: string | null };
}

/**
 * Accumulates events into blocks. Adjacent text merges; adjacent reasoning
 * merges until a signature closes it (Anthropic signs each thinking block once,
 * at its end); tool arguments join their tool call wherever it is.
 */
export function collectAnswer(events: readonly AnswerEvent[]): CollectedAnswer {
  const out: CollectedAnswer = { blocks: [] };
  const tools = new Map<number, Extract<AnswerBlock, { kind: "tool" }>>();
  const last = () => out.blocks[out.blocks.length - 1];
  for (const ev of events) {
    switch (ev.type) {
      case "start":
        out.id = ev.id;
        out.model = ev.model;
        if (ev.created !== undefined) out.created = ev.created;
        break;
      case "text": {
        const b = last();
        if (b?.kind === "text") b.text += ev.text;
        else out.blocks.push({ kind: "text", text: ev.text });
        break;
      }
      case "reasoning": {
        let b = last();
        if (b?.kind !== "reasoning" || (b.signature !== undefined && ev.text !== "")) {
          b = { kind: "reasoning", text: "" };
          out.blocks.push(b);
        }
        b.text += ev.text;
        if (ev.signature !== undefined) b.signature = (b.signature ?? "") + ev.signature;
        break;
      }
      case "tool_call": {
        const b = { kind: "tool" as const, index: ev.index, id: ev.id, name: ev.name, args: "" };
        tools.set(ev.index, b);
        out.blocks.push(b);
        break;
      }
      case "tool_args": {
        const b = tools.get(ev.index);
        if (b) b.args += ev.delta;
        break;
      }
      case "usage":
        out.usage = mergeUsage(out.usage ?? {}, ev.usage);
        break;
      case "stop":
        out.stop = { reason: ev.reason, stopSequence: ev.stopSequence ?? null };
        break;
    }
  }
  return out;
}

/** The stop reason of a collected answer: the recorded one, else inferred from its blocks. */
export function stopReasonOf(answer: CollectedAnswer): StopReason {
  if (answer.stop) return answer.stop.reason;
  return answer.blocks.some((b) => b.kind === "tool") ? "tool_use" : "end_turn";
}
