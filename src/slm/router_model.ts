/**
 * The default L2 router model, pinned: Qwen2.5-0.5B-Instruct in Q4_K_M GGUF
 * (bartowski's quantization of Qwen's weights, Apache-2.0), 398 MB.
 *
 * Why this one: of the two sizes issue 13 names, 0.5B is the one a laptop CPU
 * comes closest to an interactive budget on a CPU: decoding reads every weight
 * per token, and Qwen2-1.5B in Q4 is 2.5 times the bytes, so about 2.5 times
 * slower than the 2.3 tokens/s bench/scenarios/l2_router.ts measured for the
 * 0.5B shape here (an estimate; the 1.5B shape was not run); Qwen2.5 follows a "reply with one digit"
 * instruction and keeps the question's language, which the classifier and the
 * quality gate rely on; its licence allows redistribution. Q4_K_M is the usual
 * size/quality balance for llama.cpp.
 *
 * The revision, size and SHA-256 could not be read from the hub here (no
 * network); they are the values several independent public projects pin for
 * this file at this revision, and all agree (the digest is also the file's Git
 * LFS `oid sha256`). `isartor models pull` refuses a file that differs.
 *
 * @module
 */

import type { ModelManifest } from "../embed/model_files.ts";

/** Qwen2.5-0.5B-Instruct Q4_K_M, as `isartor models pull --model qwen2.5-0.5b-instruct` fetches it. */
export const QWEN2_5_0_5B_INSTRUCT_Q4: ModelManifest = {
  name: "qwen2.5-0.5b-instruct",
  model: "Qwen/Qwen2.5-0.5B-Instruct",
  repo: "bartowski/Qwen2.5-0.5B-Instruct-GGUF",
  revision: "41ba88dbac95fed2528c92514c131d73eb5a174b",
  dims: 0,
  role: "router",
  license: "Apache-2.0",
  files: [
    {
      path: "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
      size: 397_808_192,
      sha256: "6eb923e7d26e9cea28811e1a8e852009b21242fb157b26149d3b188f3a8c8653",
      variant: "q4_k_m",
    },
  ],
};

/** The GGUF file of a router manifest. */
export function ggufFileOf(manifest: ModelManifest): string {
  const f = manifest.files.find((x) => x.path.endsWith(".gguf"));
  if (!f) throw new Error(`${manifest.name} has no GGUF file`);
  return f.path;
}
