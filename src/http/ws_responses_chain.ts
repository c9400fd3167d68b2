/**
 * The state one Responses WebSocket connection keeps: the most recent response,
 * so that the next `response.create` can continue it with `previous_response_id`
 * and only the new input items, as the Responses API's WebSocket mode allows
 * (also with `store: false`: the provider keeps that response in memory for the
 * connection, and so does the gateway).
 *
 * The gateway serves each `response.create` as an ordinary `POST /v1/responses`:
 * a continuation of the connection's last response becomes the whole
 * conversation again (its input, its output, then the new items), without
 * `previous_response_id`. So the request reaches a chat-only provider
 * translated, and the exact cache keys it like the same conversation sent over
 * HTTP.
 *
 * @module
 */

/** What the connection remembers of its last response. */
export interface ChainedResponse {
  id: string;
  /** The whole input that response answered (history included). */
  input: unknown[];
  /** Its output items, as sent in `response.completed`. */
  output: unknown[];
}

/** A Responses WebSocket error event's fields (sent as `{"type":"error", status, error}`). */
export interface WsError {
  status: number;
  type: string;
  code: string | null;
  message: string;
  param: string | null;
}

/** What to do with one client message. */
export type WsStep =
  /**
   * Serve `body` as a `POST /v1/responses` (always streamed). `input` is its whole
   * input, to remember with the response; null when part of the history is held
   * by the provider (a stored `previous_response_id` passed on), so the gateway
   * cannot continue it itself.
   */
  | { kind: "post"; body: Record<string, unknown>; input: unknown[] | null }
  /** `generate: false`: remember the input under a new response id, answer without a model. */
  | { kind: "warmup"; input: unknown[] }
  /** Nothing to answer (`response.processed`: the client saying it has handled a response). */
  | { kind: "ignore" }
  | { kind: "error"; error: WsError };

function invalid(message: string, code: string | null = null, param: string | null = null): WsStep {
  return {
    kind: "error",
    error: { status: 400, type: "invalid_request_error", code, message, param },
  };
}

/** A Responses `input` as a list of items (a string is one user message). */
function inputItems(input: unknown): unknown[] | null {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") return [{ type: "message", role: "user", content: input }];
  return Array.isArray(input) ? input : null;
}

/**
 * Decides what one text message on a Responses WebSocket asks for.
 *
 * @example
 * ```ts
 * const step = wsStep('{"type":"response.create","model":"gpt-5","input":"Hi"}', null);
 * step.kind; // "post"
 * ```
 */
export function wsStep(text: string, last: ChainedResponse | null): WsStep {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    return invalid(
      `the message is not valid JSON (${(e as Error).message}); fix: send one JSON event`,
    );
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    return invalid("the message must be a JSON object with a `type`");
  }
  const { type, generate, ...body } = msg as Record<string, unknown>;
  if (type === "response.processed") return { kind: "ignore" };
  if (type !== "response.create") {
    return invalid(
      `unknown event type ${JSON.stringify(type)}; fix: send {"type": "response.create", ...}`,
      "unknown_event_type",
      "type",
    );
  }
  if (body.background === true) {
    return invalid("`background` is not supported over WebSocket", null, "background");
  }
  const items = inputItems(body.input);
  if (!items) return invalid("`input` must be a string or an array of items", null, "input");
  let whole = items;
  let input: unknown[] | null = items;
  const previous = body.previous_response_id;
  if (typeof previous === "string" && previous) {
    if (last && last.id === previous) {
      // The connection's own last response: continue it here, whole.
      whole = input = [...last.input, ...last.output, ...items];
      body.input = whole;
      delete body.previous_response_id;
    } else if (body.store === false || generate === false) {
      // Never stored anywhere: no provider can find it either.
      return invalid(
        `Previous response with id '${previous}' not found.`,
        "previous_response_not_found",
        "previous_response_id",
      );
    } else {
      // A stored response the provider may know: it decides, and holds the history.
      input = null;
    }
  }
  if (generate === false) return { kind: "warmup", input: whole };
  // Over WebSocket every response is streamed; `stream` is implicit.
  return { kind: "post", body: { ...body, stream: true }, input };
}
