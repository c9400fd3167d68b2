/**
 * The cache layers' shared miss path: lead the flight of a key, or wait for
 * its leader and take what it got (see src/cache/single_flight.ts).
 *
 * @module
 */

import { canReplay, type Recording } from "../cache/recording.ts";
import { type FlightOutcome, SingleFlight, waitUnlessAborted } from "../cache/single_flight.ts";
import { GatewayError } from "../http/errors.ts";
import type { Answer, ChatRequest } from "../pipeline/types.ts";
import { clientGone } from "./cloud.ts";

/** The flights of one cache layer: recordings shared, error answers too. */
export class AnswerFlights extends SingleFlight<Recording, Answer> {}

/** What a leader's miss path reports: the recording, or why there is none. */
export type LeaderDone = (
  rec: Recording | null,
  failure?: FlightOutcome<Recording, Answer>,
) => void;

/** The outcome of a flight, from what the leader's miss path reported. */
export function flightOutcome(
  rec: Recording | null,
  failure?: FlightOutcome<Recording, Answer>,
): FlightOutcome<Recording, Answer> {
  if (rec) return { kind: "result", result: rec };
  if (!failure) return { kind: "none" };
  // A leader whose own client left has nothing to say about the others' request.
  if (
    failure.kind === "error" && failure.error instanceof GatewayError &&
    failure.error.status === 499
  ) {
    return { kind: "none" };
  }
  return failure;
}

/** Settles a flight this request leads. */
export type Settle = (outcome: FlightOutcome<Recording, Answer>) => void;

/**
 * Joins the flight of `id`: leads it when none is in the air (the check and
 * the lead are one synchronous step, so two requests never both lead), or
 * waits for its leader and takes what it got: a replayable recording as a
 * hit, the provider's error answer, or the leader's error, thrown. When a
 * leader ends with nothing to share, the waiters race to lead again: one
 * wins, the rest wait for it, so a failing or non-recordable upstream sees
 * one identical request at a time, never a stampede.
 */
export async function joinFlight(
  flights: AnswerFlights,
  id: string,
  req: ChatRequest,
  hit: (rec: Recording) => Answer,
  onWait: () => void,
  next: () => Promise<Answer>,
): Promise<{ answer: Answer } | { settle: Settle }> {
  let waited = false;
  while (true) {
    const pending = flights.pending(id);
    if (!pending) return { settle: flights.lead(id)! };
    if (!waited) onWait();
    waited = true;
    const outcome = await waitUnlessAborted(pending, req.signal);
    if (req.signal.aborted || outcome === null) throw clientGone();
    switch (outcome.kind) {
      case "result":
        // A recording that cannot be re-encoded without loss serves only its own mode.
        return { answer: canReplay(outcome.result, req) ? hit(outcome.result) : await next() };
      case "error":
        throw outcome.error;
      case "answer":
        return { answer: outcome.answer };
      case "none":
        continue;
    }
  }
}
