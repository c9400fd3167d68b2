/**
 * Captures the request bodies that real agent CLIs send, for the L2.5 fixtures
 * (bench/data/agent_requests/). Run by hand, never in CI:
 *
 * ```sh
 * npx -y deno@2.9.6 run --allow-net=127.0.0.1,localhost --allow-read --allow-write --allow-env \
 *   --allow-run --allow-sys bench/capture/agent_requests.ts [claude|codex|opencode|gemini ...]
 * ```
 *
 * Each CLI (the pinned npm build, tests/support/agent_clis.ts) runs a 10-turn session through
 * the gateway (optimiser off) against the mock provider, in a project whose instruction file
 * is {@linkcode INSTRUCTIONS}; turn 1 runs a shell command whose output repeats lines. Every
 * body that reached the mock is written, in order, as raw JSON lines to `bench/capture/out/`;
 * `bench/capture/trim.ts` turns them into the small fixtures.
 *
 * @module
 */

import { type AgentCliName, ensureCli } from "../../tests/support/agent_clis.ts";
import { type AgentRig, claudeCodeEnv, startAgentRig } from "../../tests/support/agent_harness.ts";
import { shellToolLoop, TOOL_LOOP_TRIGGER } from "../../tests/support/agent_script.ts";

/** The project instruction file every CLI finds (CLAUDE.md and AGENTS.md hold the same text). */
export const INSTRUCTIONS = await Deno.readTextFile(
  new URL("./instructions.md", import.meta.url),
);

/** A shell command whose output has runs of identical lines, like a build log. */
const COMMAND = "sh ./build.sh";
const BUILD_SH = `#!/bin/sh
echo "compiling 48 modules"
i=0; while [ $i -lt 40 ]; do echo "warning: deprecated option --legacy-peer-deps"; i=$((i+1)); done
echo "built in 2.1s"
i=0; while [ $i -lt 12 ]; do echo "."; i=$((i+1)); done
echo "done"
`;

const PROMPTS = [
  `${TOOL_LOOP_TRIGGER}: run \`${COMMAND}\` and tell me what it printed.`,
  "What does the build warn about?",
  "Summarise the project's conventions in one line.",
  "Which test command should I use?",
  "Is the warning something to fix now?",
  "Name one risk in the build script.",
  "How long did the build take?",
  "What should a commit message look like here?",
  "Anything else I should know before pushing?",
  "Thanks, that is all.",
];

interface Cli {
  provider: string;
  setup(rig: AgentRig): Promise<void>;
  run(rig: AgentRig, bin: string, prompt: string, turn: number): Promise<number>;
}

/** opencode's project instructions and config: one model for both roles, `provider` as given. */
async function opencodeSetup(rig: AgentRig, model: string, provider: Record<string, unknown>) {
  await Deno.writeTextFile(`${rig.work}/AGENTS.md`, INSTRUCTIONS);
  const dir = `${rig.home}/.config/opencode`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/opencode.json`,
    JSON.stringify({
      $schema: "https://opencode.ai/config.json",
      model,
      small_model: model,
      autoupdate: false,
      share: "disabled",
      permission: { bash: "allow", edit: "allow" },
      provider,
    }),
  );
}

const CLIS: Record<string, Cli> = {
  claude: {
    provider: "anthropic",
    async setup(rig) {
      await Deno.writeTextFile(`${rig.work}/CLAUDE.md`, INSTRUCTIONS);
    },
    async run(rig, bin, prompt, turn) {
      const args = ["-p", prompt, "--output-format", "json", "--allowedTools", "Bash"];
      if (turn > 0) args.push("--continue");
      return (await rig.run(bin, args, { env: claudeCodeEnv(rig) })).code;
    },
  },
  codex: {
    provider: "openai",
    async setup(rig) {
      await Deno.writeTextFile(`${rig.work}/AGENTS.md`, INSTRUCTIONS);
      await Deno.mkdir(`${rig.home}/.codex`, { recursive: true });
      await Deno.writeTextFile(
        `${rig.home}/.codex/config.toml`,
        `model = "gpt-5"\nmodel_provider = "isartor"\n\n[model_providers.isartor]\n` +
          `name = "isartor"\nbase_url = "${rig.url}/v1"\nwire_api = "responses"\n`,
      );
    },
    async run(rig, bin, prompt, turn) {
      const flags = ["--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox"];
      const args = turn > 0
        ? ["exec", "resume", "--last", ...flags, prompt]
        : ["exec", ...flags, prompt];
      const r = await rig.run(bin, args, {
        env: { CODEX_HOME: `${rig.home}/.codex`, OPENAI_API_KEY: "sk-client" },
      });
      if (r.code !== 0) console.error(r.stderr.slice(-2000));
      return r.code;
    },
  },
  opencode: {
    provider: "anthropic",
    setup: (rig) =>
      opencodeSetup(rig, "anthropic/claude-sonnet-4-5", {
        anthropic: { options: { baseURL: `${rig.url}/v1`, apiKey: "sk-ant-x" } },
      }),
    async run(rig, bin, prompt, turn) {
      const args = ["run", prompt];
      if (turn > 0) args.push("--continue");
      const r = await rig.run(bin, args, {
        env: { ANTHROPIC_API_KEY: "sk-ant-x", OPENCODE_DISABLE_AUTOUPDATE: "1" },
      });
      if (r.code !== 0) console.error(r.stderr.slice(-2000));
      return r.code;
    },
  },
  gemini: {
    provider: "gemini",
    async setup(rig) {
      await Deno.writeTextFile(`${rig.work}/GEMINI.md`, INSTRUCTIONS);
      await Deno.mkdir(`${rig.home}/.gemini`, { recursive: true });
      await Deno.writeTextFile(
        `${rig.home}/.gemini/.env`,
        `GOOGLE_GEMINI_BASE_URL=${rig.url}\nGEMINI_API_KEY=client-key\n`,
      );
      await Deno.writeTextFile(
        `${rig.home}/.gemini/settings.json`,
        JSON.stringify({
          security: { auth: { selectedType: "gemini-api-key" }, folderTrust: { enabled: false } },
          privacy: { usageStatisticsEnabled: false },
          general: { disableAutoUpdate: true },
        }),
      );
    },
    async run(rig, bin, prompt, turn) {
      const args = ["-p", prompt, "--yolo"];
      if (turn > 0) args.push("--resume", "latest");
      const r = await rig.run(bin, args, {
        env: { GEMINI_API_KEY: "client-key", GOOGLE_GEMINI_BASE_URL: rig.url },
      });
      if (r.code !== 0) console.error(r.stderr.slice(-2000));
      return r.code;
    },
  },
  /** opencode through an OpenAI-compatible provider: the Chat Completions protocol. */
  opencode_chat: {
    provider: "openai_compatible",
    setup: (rig) =>
      opencodeSetup(rig, "isartor/gpt-4.1", {
        isartor: {
          npm: "@ai-sdk/openai-compatible",
          name: "isartor",
          options: { baseURL: `${rig.url}/v1`, apiKey: "sk-x" },
          models: { "gpt-4.1": { name: "gpt-4.1" } },
        },
      }),
    run: (rig, bin, prompt, turn) => CLIS.opencode.run(rig, bin, prompt, turn),
  },
};

for (const name of Deno.args.length ? Deno.args : Object.keys(CLIS)) {
  const cli = CLIS[name];
  const bin = await ensureCli(name === "opencode_chat" ? "opencode" : name as AgentCliName);
  // The tool loop in turn 1 only: later turns get the mock's canned text.
  const loop = shellToolLoop({ command: COMMAND });
  let turn = 0;
  await using rig = await startAgentRig({
    provider: cli.provider,
    // The bodies as the CLI sent them: no cache, no optimiser.
    config: { cache_mode: "off", enable_context_optimizer: false },
    script: (req) => turn === 0 ? loop.script(req) : null,
  });
  await Deno.writeTextFile(`${rig.work}/build.sh`, BUILD_SH);
  await cli.setup(rig);
  for (turn = 0; turn < PROMPTS.length; turn++) {
    const before = rig.mock.requests.length;
    const code = await cli.run(rig, bin, PROMPTS[turn], turn);
    console.error(
      `${name} turn ${turn + 1}: exit ${code}, ${rig.mock.requests.length - before} requests`,
    );
  }
  await Deno.mkdir(new URL("./out/", import.meta.url), { recursive: true });
  const lines = rig.mock.requests.map((r) => JSON.stringify({ path: r.path, body: r.body })).join(
    "\n",
  );
  await Deno.writeTextFile(new URL(`./out/${name}.jsonl`, import.meta.url), lines + "\n");
  console.error(`${name}: ${rig.mock.requests.length} requests captured`);
}
