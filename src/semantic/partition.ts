/**
 * The semantic partition: everything that shapes an answer except the last
 * user turn, hashed. A semantic match is only searched inside the partition of
 * the request, so it can never cross a tenant, a provider, a model, a system
 * prompt, a tool list, a sampling setting or an earlier turn.
 *
 * The material is the exact-cache key material (docs/cache-key.md) of the
 * body without the last turn's content, plus the last turn's other fields and
 * the embedder (vectors of two embedders never meet).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { keyMaterial } from "../cache/cache_key.ts";
import { canonicalJson } from "../cache/canonical_json.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type { LastTurn } from "./last_turn.ts";

/** Version of the partition material; bump it when the material changes. */
export const PARTITION_VERSION = 1;

/** Where an entry lives: a lookup never leaves its partition. */
export interface PartitionRef {
  tenant: string;
  provider: string;
  /** Hex SHA-256 of the partition material. */
  digest: string;
}

/**
 * The partition digest of a request split by `lastUserTurn`.
 *
 * @example
 * ```ts
 * const turn = { text: "Hi?", prefix: { messages: [] }, turn: { role: "user" } };
 * partitionDigest("openai_chat", turn, "gpt-4o", new Headers(), "none:isartor-hash-v1").length; // 64
 * ```
 */
export function partitionDigest(
  protocol: WireProtocol,
  split: LastTurn,
  resolvedModel: string,
  headers: Headers,
  embedderId: string,
  query = "",
): string {
  const material = {
    l1b: PARTITION_VERSION,
    embedder: embedderId,
    key: keyMaterial(protocol, split.prefix, resolvedModel, headers, query),
    turn: split.turn,
  };
  return createHash("sha256").update(canonicalJson(material)).digest("hex");
}

/** A partition as one string (for maps). */
export function partitionId(ref: PartitionRef): string {
  return `${ref.tenant}\u0000${ref.provider}\u0000${ref.digest}`;
}
