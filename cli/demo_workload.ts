/**
 * The bundled workload of `isartor demo`: prompts like a coding agent's and a
 * help desk's, with exact repeats (what the exact cache answers) and
 * paraphrases (what the semantic cache may answer). Written for the demo; no
 * user data.
 *
 * @module
 */

/** How a prompt relates to the ones before it. */
export type PromptKind = "original" | "repeat" | "paraphrase";

/** One request of the workload. */
export interface DemoPrompt {
  kind: PromptKind;
  /** The system prompt: a coding agent's or a help desk's. */
  system: "agent" | "faq";
  prompt: string;
  /** For a repeat or a paraphrase: the index of the original it restates. */
  of?: number;
}

/** The two system prompts. */
export const DEMO_SYSTEMS: Readonly<Record<DemoPrompt["system"], string>> = {
  agent:
    "You are a coding agent working in a TypeScript repository. Answer briefly and show code when useful.",
  faq: "You are the help desk of a small software company. Answer in two sentences at most.",
};

const ORIGINALS: readonly Omit<DemoPrompt, "kind">[] = [
  { system: "agent", prompt: "How do I read a JSON file in Deno?" },
  { system: "agent", prompt: "Write a TypeScript function that debounces another function." },
  { system: "agent", prompt: "What does the error TS2339 'Property does not exist on type' mean?" },
  { system: "agent", prompt: "How do I run only one test file with deno test?" },
  { system: "agent", prompt: "Explain the difference between interface and type in TypeScript." },
  { system: "agent", prompt: "How can I cancel a fetch request after 5 seconds?" },
  { system: "agent", prompt: "Write a regular expression that matches an ISO 8601 date." },
  { system: "agent", prompt: "How do I make git forget a file that is now in .gitignore?" },
  { system: "agent", prompt: "What is the fastest way to deep-copy an object in JavaScript?" },
  { system: "agent", prompt: "Show a minimal Dockerfile for a Deno HTTP server." },
  { system: "agent", prompt: "How do I stream a large file to the client with Deno.serve?" },
  { system: "agent", prompt: "Refactor a callback-based readFile into async/await." },
  { system: "faq", prompt: "How do I reset my password?" },
  { system: "faq", prompt: "Which payment methods do you accept?" },
  { system: "faq", prompt: "Can I export my data as CSV?" },
  { system: "faq", prompt: "How do I cancel my subscription?" },
  { system: "faq", prompt: "Is there a free trial?" },
  { system: "faq", prompt: "Where can I download my invoices?" },
  { system: "faq", prompt: "Do you offer a discount for students?" },
  { system: "faq", prompt: "How do I add a teammate to my workspace?" },
];

/** Later requests: exact repeats and paraphrases of the originals, by index. */
const FOLLOW_UPS: readonly { of: number; prompt?: string }[] = [
  { of: 0 },
  { of: 12 },
  { of: 3 },
  { of: 0, prompt: "In Deno, how can I load and parse a JSON file?" },
  { of: 13 },
  { of: 12, prompt: "I forgot my password, how do I reset it?" },
  { of: 5 },
  { of: 15, prompt: "What are the steps to cancel my subscription?" },
  { of: 1 },
  { of: 3, prompt: "With deno test, how do I run a single test file?" },
  { of: 16, prompt: "Do you have a free trial?" },
  { of: 14 },
  { of: 7, prompt: "How can I make git stop tracking a file I just added to .gitignore?" },
  { of: 17 },
  { of: 9, prompt: "Give me a minimal Dockerfile for an HTTP server written with Deno." },
  { of: 19 },
  { of: 13, prompt: "What payment methods can I use?" },
  { of: 2 },
  { of: 18, prompt: "Is there a student discount?" },
  { of: 10 },
];

/**
 * The workload (40 requests): the first originals, then the follow-ups, each
 * sent after the original it restates, with the other originals in between.
 */
export const DEMO_WORKLOAD: readonly DemoPrompt[] = (() => {
  const out: DemoPrompt[] = [];
  let next = 0;
  const emitOriginal = () => out.push({ kind: "original", ...ORIGINALS[next++] });
  while (next < 8) emitOriginal();
  for (const f of FOLLOW_UPS) {
    while (next <= f.of) emitOriginal();
    const original = ORIGINALS[f.of];
    out.push({
      kind: f.prompt ? "paraphrase" : "repeat",
      system: original.system,
      prompt: f.prompt ?? original.prompt,
      of: f.of,
    });
  }
  while (next < ORIGINALS.length) emitOriginal();
  return out;
})();
