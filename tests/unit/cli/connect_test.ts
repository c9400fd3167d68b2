import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { parse as parseJsonc } from "jsonc-parser";
import { applyChanges, planChanges, undoChanges } from "../../../cli/connect/backup.ts";
import type { ConnectContext } from "../../../cli/connect/target.ts";
import { TARGETS } from "../../../cli/connect/targets.ts";

function ctxFor(home: string, over: Partial<ConnectContext> = {}): ConnectContext {
  return {
    home,
    env: {},
    platform: "linux",
    gatewayUrl: "http://127.0.0.1:8080",
    gatewayKey: "",
    defaultModel: "gpt-4o-mini",
    mcp: {
      command: "/usr/local/bin/isartor",
      args: ["mcp", "--gateway-url", "http://127.0.0.1:8080"],
    },
    dataDir: `${home}/.isartor`,
    extra: {},
    ...over,
  };
}

async function connect(tool: string, ctx: ConnectContext) {
  const changes = planChanges(TARGETS[tool].files(ctx));
  return await applyChanges(`${ctx.dataDir}/connect`, tool, ctx.gatewayUrl, changes);
}

function write(path: string, text: string) {
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

Deno.test("claude: comments survive, twice changes nothing, disconnect is byte-identical, key file 0600", async () => {
  const home = Deno.makeTempDirSync();
  const path = `${home}/cfg/settings.json`;
  const original = '{\n  // keep me\n  "theme": "dark",\n  "env": { "FOO": "1" },\n}\n';
  write(path, original);
  const ctx = ctxFor(home, {
    env: { CLAUDE_CONFIG_DIR: `${home}/cfg` },
    gatewayKey: "sk-gw-0123456789abcdef",
  });
  const first = await connect("claude", ctx);
  assertEquals(first.changed, [path]);
  const text = Deno.readTextFileSync(path);
  assert(text.includes("// keep me"));
  const env = parseJsonc(text).env;
  assertEquals(env.FOO, "1");
  assertEquals(env.ANTHROPIC_BASE_URL, "http://127.0.0.1:8080");
  assertEquals(env.ANTHROPIC_AUTH_TOKEN, "sk-gw-0123456789abcdef");
  if (Deno.build.os !== "windows") assertEquals(Deno.statSync(path).mode! & 0o777, 0o600);
  const second = await connect("claude", ctx);
  assertEquals(second.changed, []);
  assertEquals(Deno.readTextFileSync(path), text);
  await undoChanges(`${ctx.dataDir}/connect`, "claude");
  assertEquals(Deno.readTextFileSync(path), original);
});

Deno.test("disconnect after the user edited the file removes only our entries", async () => {
  const home = Deno.makeTempDirSync();
  const ctx = ctxFor(home);
  const path = `${home}/.claude/settings.json`;
  write(path, '{ "theme": "dark" }\n');
  await connect("claude", ctx);
  const edited = Deno.readTextFileSync(path).replace('"theme": "dark"', '"theme": "light"');
  Deno.writeTextFileSync(path, edited);
  await undoChanges(`${ctx.dataDir}/connect`, "claude");
  assertEquals(parseJsonc(Deno.readTextFileSync(path)), { theme: "light" });
});

Deno.test("a file we created is removed again on disconnect", async () => {
  const home = Deno.makeTempDirSync();
  const ctx = ctxFor(home);
  await connect("cursor", ctx);
  const path = `${home}/.cursor/mcp.json`;
  assertEquals(parseJsonc(Deno.readTextFileSync(path)), {
    mcpServers: {
      isartor: {
        command: "/usr/local/bin/isartor",
        args: ["mcp", "--gateway-url", "http://127.0.0.1:8080"],
      },
    },
  });
  await undoChanges(`${ctx.dataDir}/connect`, "cursor");
  let gone = false;
  try {
    Deno.statSync(`${home}/.cursor`);
  } catch {
    gone = true;
  }
  assert(gone);
});

Deno.test("codex: TOML comments kept, custom provider on the Responses API, CODEX_HOME honoured", async () => {
  const home = Deno.makeTempDirSync();
  const path = `${home}/cx/config.toml`;
  const original = '# my codex config\nmodel = "o3" # inline\n\n[mcp_servers.x]\ncommand = "x"\n';
  write(path, original);
  const ctx = ctxFor(home, { env: { CODEX_HOME: `${home}/cx` }, model: "gpt-5-codex" });
  await connect("codex", ctx);
  const text = Deno.readTextFileSync(path);
  assert(text.startsWith("# my codex config\n"));
  const cfg = parseToml(text) as Record<string, Record<string, Record<string, unknown>>>;
  assertEquals(cfg.model_provider, "isartor");
  assertEquals(cfg.model, "gpt-5-codex");
  assertEquals({ ...cfg.model_providers.isartor }, {
    name: "isartor",
    base_url: "http://127.0.0.1:8080/v1",
    wire_api: "responses",
  });
  assertEquals(cfg.mcp_servers.x.command, "x");
  assertEquals((await connect("codex", ctx)).changed, []);
  await undoChanges(`${ctx.dataDir}/connect`, "codex");
  assertEquals(Deno.readTextFileSync(path), original);
});

Deno.test("codex: keys inside the user's own [features] table; disconnect after an edit keeps theirs", async () => {
  const home = Deno.makeTempDirSync();
  const path = `${home}/.codex/config.toml`;
  const original = "[features]\n# mine\nweb_search = true\n";
  write(path, original);
  const ctx = ctxFor(home);
  await connect("codex", ctx);
  const text = Deno.readTextFileSync(path);
  assert(text.includes("[features]\n# mine\nweb_search = true\nplugins = false\n"), text);
  const cfg = parseToml(text) as Record<string, Record<string, unknown>>;
  assertEquals({ ...cfg.analytics }, { enabled: false });
  // The user edits the file: undo takes out only our lines and the tables we created.
  Deno.writeTextFileSync(path, `${text}# later\n`);
  await undoChanges(`${ctx.dataDir}/connect`, "codex");
  const undone = Deno.readTextFileSync(path);
  assert(undone.includes(original), undone);
  const left = parseToml(undone) as Record<string, unknown>;
  assertEquals(Object.keys(left), ["features"]);
  assertEquals({ ...left.features as object }, { web_search: true });
});

Deno.test("gemini: .env lines and the auth type; GEMINI_CLI_HOME honoured", async () => {
  const home = Deno.makeTempDirSync();
  const ctx = ctxFor(home, { env: { GEMINI_CLI_HOME: `${home}/g` } });
  write(`${home}/g/.gemini/.env`, "# mine\nOTHER=1\n");
  await connect("gemini", ctx);
  assertEquals(
    Deno.readTextFileSync(`${home}/g/.gemini/.env`),
    "# mine\nOTHER=1\nGOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8080\nGEMINI_API_KEY=isartor-local\n",
  );
  assertEquals(parseJsonc(Deno.readTextFileSync(`${home}/g/.gemini/settings.json`)), {
    security: { auth: { selectedType: "gemini-api-key" } },
    privacy: { usageStatisticsEnabled: false },
  });
  await undoChanges(`${ctx.dataDir}/connect`, "gemini");
  assertEquals(Deno.readTextFileSync(`${home}/g/.gemini/.env`), "# mine\nOTHER=1\n");
});

Deno.test("copilot-vscode: our model group in the array, other groups and comments kept", async () => {
  const home = Deno.makeTempDirSync();
  const ctx = ctxFor(home, { env: { XDG_CONFIG_HOME: `${home}/xdg` } });
  const path = `${home}/xdg/Code/User/chatLanguageModels.json`;
  write(
    path,
    '[\n  // theirs\n  { "name": "other", "vendor": "customendpoint", "models": [] }\n]\n',
  );
  await connect("copilot-vscode", ctx);
  const text = Deno.readTextFileSync(path);
  assert(text.includes("// theirs"));
  const groups = parseJsonc(text);
  assertEquals(groups.length, 2);
  assertEquals(groups[1].name, "isartor");
  assertEquals(groups[1].models[0].url, "http://127.0.0.1:8080/v1/chat/completions");
  assertEquals(
    parseJsonc(Deno.readTextFileSync(`${home}/xdg/Code/User/mcp.json`)).servers.isartor.type,
    "stdio",
  );
  assertEquals((await connect("copilot-vscode", ctx)).changed, []);
});

Deno.test("claude-desktop: per-OS path (APPDATA on Windows)", () => {
  const home = "/h";
  const spec = (over: Partial<ConnectContext>) =>
    TARGETS["claude-desktop"].files(ctxFor(home, over))[0].path;
  assertEquals(
    spec({ platform: "darwin" }),
    "/h/Library/Application Support/Claude/claude_desktop_config.json",
  );
  assertEquals(
    spec({ platform: "windows", env: { APPDATA: "C:/Users/u/AppData/Roaming" } }),
    "C:/Users/u/AppData/Roaming/Claude/claude_desktop_config.json",
  );
  assertEquals(spec({ platform: "linux" }), "/h/.config/Claude/claude_desktop_config.json");
});

Deno.test("opencode and openclaw: provider entries and the auth file; XDG and OPENCLAW_CONFIG_PATH honoured", async () => {
  const home = Deno.makeTempDirSync();
  const ctx = ctxFor(home, {
    env: {
      XDG_CONFIG_HOME: `${home}/c`,
      XDG_DATA_HOME: `${home}/d`,
      OPENCLAW_CONFIG_PATH: `${home}/oc.json`,
    },
    gatewayKey: "sk-gw-0123456789abcdef",
  });
  await connect("opencode", ctx);
  const oc = parseJsonc(Deno.readTextFileSync(`${home}/c/opencode/opencode.json`));
  assertEquals(oc.model, "isartor/gpt-4o-mini");
  assertEquals(oc.provider.isartor.options.baseURL, "http://127.0.0.1:8080/v1");
  const auth = `${home}/d/opencode/auth.json`;
  assertEquals(parseJsonc(Deno.readTextFileSync(auth)).isartor, {
    type: "api",
    key: "sk-gw-0123456789abcdef",
  });
  if (Deno.build.os !== "windows") assertEquals(Deno.statSync(auth).mode! & 0o777, 0o600);
  await connect("openclaw", ctx);
  const claw = parseJsonc(Deno.readTextFileSync(`${home}/oc.json`));
  assertEquals(claw.agents.defaults.model.primary, "isartor/gpt-4o-mini");
  assertEquals(claw.models.providers.isartor.api, "openai-completions");
});
