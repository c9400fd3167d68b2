/**
 * L2, the small-model router: a small local (or self-hosted) model answers
 * what it safely can, and everything else passes to the next layer.
 *
 * In order, each step passing to L3 when it says no:
 * 1. the gate (../slm/gate.ts): one self-contained user question, by shape
 *    and size; no model call otherwise;
 * 2. a generation slot (one at a time in-process; a bounded queue) — busy passes;
 * 3. the classifier (../slm/classifier.ts): SIMPLE with at least
 *    `min_confidence`, from one constrained token;
 * 4. the answer's opening (the first {@linkcode OPENING_CHARS} characters,
 *    or all of a short answer) passes the quality gate (../slm/quality.ts).
 * Steps 2–4 run under `timeout_seconds`; an error or the timeout passes too.
 * Then the answer streams on as it is generated, encoded as Anthropic SSE
 * (which always carries usage) that the edge re-encodes into the client's
 * protocol and mode, event by event.
 *
 * @module
 */

import type { Answer, ChatRequest, Layer, Next, RequestContext } from "../pipeline/types.ts";
import type { AnswerEvent } from "../protocol/events.ts";
import { CODECS } from "../protocol/codecs.ts";
import { encodeSse } from "../protocol/sse.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { SlmBackend, SlmChunk } from "../slm/backend.ts";
import { answerMessages, gateRequest } from "../slm/gate.ts";
import { type ClassifierMode, classify } from "../slm/classifier.ts";
import { answerProblem } from "../slm/quality.ts";
import { GenerationQueue } from "../slm/queue.ts";
import type { Config } from "../config/schema.ts";

/** Characters of an answer checked before the first byte goes to the client. */
export const OPENING_CHARS = 64;

/** Options of {@linkcode RouterLayer}. */
export interface RouterOptions {
  mode: ClassifierMode;
  /** Least probability of the SIMPLE label. */
  minConfidence: number;
  /** Deadline of classification and the answer's opening, and the longest pause mid-answer. */
  timeoutMs: number;
  maxAnswerTokens: number;
  /** Whether L1a/L1b may store L2's answers. */
  cacheAnswers: boolean;
}

/** What L2 decided for a request: the `outcome` label of `isartor_l2_decisions_total`. */
export type L2Outcome =
  | "answered"
  | "not_eligible"
  | "loading"
  | "unavailable"
  | "busy"
  | "not_simple"
  | "low_confidence"
  | "quality_empty"
  | "quality_refusal"
  | "quality_truncated"
  | "quality_wrong_language"
  | "timeout"
  | "error";

/** The backend, once it is ready: a promise while the model loads, or its load error. */
export type BackendSlot = { ready: SlmBackend } | { loading: Promise<unknown> } | {
  failed: string;
};

/** The requested answer-token limit of a client request, if any. */
export function clientMaxTokens(req: ChatRequest): number | undefined {
  const b = req.body;
  const g = typeof b.generationConfig === "object" && b.generationConfig !== null
    ? (b.generationConfig as Record<string, unknown>).maxOutputTokens
    : undefined;
  for (const v of [b.max_completion_tokens, b.max_tokens, b.max_output_tokens, g]) {
    if (typeof v === "number" && v > 0) return Math.floor(v);
  }
  return undefined;
}

class Timeout extends Error {
  override name = "Timeout";
}

/** The L2 layer. */
export class RouterLayer implements Layer {
  readonly name = "l2" as const;
  readonly spanName = "l2_classify_intent";
  slot: BackendSlot;

  constructor(
    backend: SlmBackend | Promise<SlmBackend>,
    readonly queue: GenerationQueue,
    readonly options: RouterOptions,
    readonly metrics: Metrics,
  ) {
    if (backend instanceof Promise) {
      this.slot = {
        loading: backend.then(
          (b) => this.slot = { ready: b },
          (e) => {
            this.slot = { failed: (e as Error).message };
            console.warn(`[isartor] warning: L2 router unavailable: ${(e as Error).message}`);
          },
        ),
      };
    } else this.slot = { ready: backend };
  }

  /**
   * The layer of a configuration: one generation at a time in-process (eight
   * for a server), `layer2.max_queue` waiting.
   */
  static fromConfig(
    config: Config,
    backend: SlmBackend | Promise<SlmBackend>,
    metrics: Metrics,
  ): RouterLayer {
    const l2 = config.layer2;
    const embedded = !(backend instanceof Promise) ? backend.kind === "embedded" : true;
    return new RouterLayer(backend, new GenerationQueue(embedded ? 1 : 8, l2.max_queue), {
      mode: l2.classifier_mode,
      minConfidence: l2.min_confidence,
      timeoutMs: l2.timeout_seconds * 1000,
      maxAnswerTokens: l2.max_answer_tokens,
      cacheAnswers: l2.cache_answers,
    }, metrics);
  }

  /** Releases the model (after it finished loading, if it was loading). */
  async close(): Promise<void> {
    if ("loading" in this.slot) await this.slot.loading;
    if ("ready" in this.slot) await this.slot.ready.close();
  }

  /** For `/health`: on, its backend and model, or why not. */
  describe(): string {
    const s = this.slot;
    if ("ready" in s) return `on (${s.ready.kind}: ${s.ready.model})`;
    if ("loading" in s) return "loading the model";
    return `unavailable: ${s.failed}`;
  }

  #count(outcome: L2Outcome) {
    this.metrics.l2Decisions.inc({ outcome });
  }

  async handle(req: ChatRequest, ctx: RequestContext, next: Next): Promise<Answer> {
    const gate = gateRequest(req.protocol, req.body);
    if (!gate.ok) {
      this.#count("not_eligible");
      return next();
    }
    const slot = this.slot;
    if (!("ready" in slot)) {
      this.#count("loading" in slot ? "loading" : "unavailable");
      return next();
    }
    const backend = slot.ready;
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Timeout("layer2.timeout_seconds passed")),
      this.options.timeoutMs,
    );
    const signal = AbortSignal.any([req.signal, deadline.signal]);
    let release: (() => void) | null = null;
    let iter: AsyncIterator<SlmChunk> | null = null;
    const pass = (outcome: L2Outcome) => {
      clearTimeout(timer);
      deadline.abort(new Timeout("passed to the next layer"));
      void iter?.return?.();
      release?.();
      this.#count(outcome);
      return next();
    };
    try {
      release = await this.queue.acquire(signal);
      if (!release) return pass("busy");
      const verdict = await classify(backend, this.options.mode, gate.question, signal);
      if (!verdict) return pass("low_confidence");
      if (verdict.intent !== "SIMPLE") return pass("not_simple");
      if (verdict.confidence < this.options.minConfidence) return pass("low_confidence");
      const clientLimit = clientMaxTokens(req);
      const maxTokens = Math.min(this.options.maxAnswerTokens, clientLimit ?? Infinity);
      iter = backend.generate({
        messages: answerMessages(gate),
        maxTokens,
        temperature: typeof req.body.temperature === "number" ? req.body.temperature : 0,
        signal,
      })[Symbol.asyncIterator]();
      // Hold back the opening until it passes the quality gate.
      const pieces: string[] = [];
      let opening = "";
      let done: Extract<SlmChunk, { type: "done" }> | null = null;
      while (opening.length < OPENING_CHARS) {
        const r = await iter.next();
        if (r.done) break;
        if (r.value.type === "done") {
          done = r.value;
          break;
        }
        pieces.push(r.value.text);
        opening += r.value.text;
      }
      // Cut by L2's own limit (not the client's) means a truncated answer.
      const ownLimit = clientLimit === undefined || clientLimit > this.options.maxAnswerTokens;
      const problem = answerProblem(
        gate.question,
        opening,
        done?.finish === "length" && ownLimit,
      );
      if (problem) return pass(`quality_${problem}`);
      this.#count("answered");
      clearTimeout(timer);
      const tail = this.#tail(iter, done, deadline, () => release?.());
      const events: AnswerEvent[] = [
        { type: "start", id: `msg_l2_${ctx.requestId.replaceAll("-", "")}`, model: backend.model },
        // The held-back pieces go out as they were generated, one event each.
        ...pieces.map((text): AnswerEvent => ({ type: "text", text })),
      ];
      return {
        layer: "l2",
        status: 200,
        headers: {},
        protocol: "anthropic",
        body: { kind: "sse", stream: sseOf(events, tail) },
        layerHeaders: {
          "x-isartor-l2-model": backend.model,
          "x-isartor-l2-confidence": verdict.confidence.toFixed(3),
        },
        cacheable: this.options.cacheAnswers,
      };
    } catch (e) {
      if (req.signal.aborted) {
        clearTimeout(timer);
        release?.();
        throw e;
      }
      return pass(deadline.signal.aborted ? "timeout" : "error");
    }
  }

  /** The rest of the answer as events; the slot is released when it ends or is cancelled. */
  async *#tail(
    iter: AsyncIterator<SlmChunk>,
    done: Extract<SlmChunk, { type: "done" }> | null,
    deadline: AbortController,
    release: () => void,
  ): AsyncGenerator<AnswerEvent> {
    let idle: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!done) {
        clearTimeout(idle);
        idle = setTimeout(
          () => deadline.abort(new Timeout("the router model stalled")),
          this.options.timeoutMs,
        );
        const r = await iter.next();
        if (r.done) throw new Error("the router model stopped without finishing");
        if (r.value.type === "done") done = r.value;
        else yield { type: "text", text: r.value.text };
      }
      yield {
        type: "usage",
        usage: { inputTokens: done.inputTokens, outputTokens: done.outputTokens },
      };
      yield {
        type: "stop",
        reason: done.finish === "length" ? "max_tokens" : "end_turn",
        ...(done.finish === "other" ? { unfinished: true as const } : {}),
      };
    } finally {
      clearTimeout(idle);
      release();
      await iter.return?.();
    }
  }
}

/** Anthropic SSE bytes of `head` then `tail`, produced as the tail is pulled. */
function sseOf(head: AnswerEvent[], tail: AsyncGenerator<AnswerEvent>): ReadableStream<Uint8Array> {
  const enc = CODECS.anthropic.streamEncoder({});
  const bytes = new TextEncoder();
  const encode = (ev: AnswerEvent) => enc.encode(ev).map(encodeSse).join("");
  let first = head.map(encode).join("");
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      if (first) {
        out.enqueue(bytes.encode(first));
        first = "";
        return;
      }
      try {
        while (true) {
          const r = await tail.next();
          if (r.done) return out.close();
          const text = encode(r.value);
          if (text) return out.enqueue(bytes.encode(text));
        }
      } catch (e) {
        out.error(e);
      }
    },
    async cancel() {
      await tail.return(undefined);
    },
  });
}
