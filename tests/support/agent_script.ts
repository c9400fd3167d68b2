/**
 * A scripted coding-agent turn for the mock provider: when a conversation asks for it (the
 * trigger word in a user turn), the mock answers with a call to the client's own shell tool, and
 * once the tool's result comes back, with a text quoting it. Works in every protocol the mock
 * speaks, whatever the client names its shell tool (`Bash`, `bash`, `shell`, `exec_command`,
 * `run_shell_command`, ...), filling the arguments from the tool's JSON schema.
 *
 * @module
 */

import type { MockAnswer, ScriptedRequest } from "./mock_upstream.ts";

/** A tool as the client declared it. */
export interface DeclaredTool {
  name: string;
  /** JSON schema of its arguments (`{}` when none). */
  schema: Record<string, unknown>;
}

/** What the script did with one request (for assertions and failure messages). */
export interface ScriptStep {
  protocol: ScriptedRequest["protocol"];
  /** `tool_call` (asked for the shell), `after_tool` (answered from the result), `plain`. */
  step: "tool_call" | "after_tool" | "plain";
  /** The tool called, for `tool_call`. */
  tool?: string;
  /** The tool result seen, for `after_tool`. */
  result?: string;
  /** Names of the tools the request declared. */
  tools: string[];
}

/** Options of {@linkcode shellToolLoop}. */
export interface ShellToolLoopOptions {
  /** Text in a user turn that starts the loop. Default {@linkcode TOOL_LOOP_TRIGGER}. */
  trigger?: string;
  /** The command the mock asks the client to run. Default `echo isartor-tool-ok`. */
  command?: string;
  /** The answer to a request that does not ask for the loop. Default: the mock's canned text. */
  plainText?: string;
}

/** The default trigger word. */
export const TOOL_LOOP_TRIGGER = "ISARTOR_TOOL_LOOP";

/** What the mock's final answer starts with, after the tool result. */
export const AFTER_TOOL_PREFIX = "The command printed:";

/** Shell tool names, most specific first. */
const SHELL_NAMES = [
  "bash",
  "shell",
  "shell_command",
  "exec_command",
  "run_shell_command",
  "execute_command",
  "run_command",
  "exec",
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The tools a request declares, whatever its protocol. */
export function declaredTools(req: ScriptedRequest): DeclaredTool[] {
  const out: DeclaredTool[] = [];
  for (const t of asArray(req.body.tools)) {
    if (!isRecord(t)) continue;
    if (req.protocol === "gemini") {
      for (const f of asArray(t.functionDeclarations)) {
        if (!isRecord(f) || typeof f.name !== "string") continue;
        const schema = f.parametersJsonSchema ?? f.parameters;
        out.push({ name: f.name, schema: isRecord(schema) ? schema : {} });
      }
    } else if (req.protocol === "openai_chat") {
      const f = t.function;
      if (isRecord(f) && typeof f.name === "string") {
        out.push({ name: f.name, schema: isRecord(f.parameters) ? f.parameters : {} });
      }
    } else if (req.protocol === "anthropic") {
      if (typeof t.name === "string") {
        out.push({ name: t.name, schema: isRecord(t.input_schema) ? t.input_schema : {} });
      }
    } else if (typeof t.name === "string") {
      out.push({ name: t.name, schema: isRecord(t.parameters) ? t.parameters : {} });
    } else if (t.type === "local_shell") {
      out.push({ name: "local_shell", schema: {} });
    }
  }
  return out;
}

function textOf(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(textOf).join("");
  if (isRecord(v)) {
    if (typeof v.text === "string") return v.text;
    if (v.content !== undefined) return textOf(v.content);
    if (typeof v.output === "string") return v.output;
    return JSON.stringify(v);
  }
  return "";
}

/** The tool result that ends the conversation, if it ends with one. */
export function trailingToolResult(req: ScriptedRequest): string | null {
  const b = req.body;
  if (req.protocol === "openai_chat") {
    const last = asArray(b.messages).at(-1);
    return isRecord(last) && last.role === "tool" ? textOf(last.content) : null;
  }
  if (req.protocol === "anthropic") {
    const last = asArray(b.messages).at(-1);
    if (!isRecord(last) || last.role !== "user" || !Array.isArray(last.content)) return null;
    const results = last.content.filter((c) => isRecord(c) && c.type === "tool_result");
    return results.length
      ? results.map((r) => textOf((r as { content: unknown }).content)).join("\n")
      : null;
  }
  if (req.protocol === "gemini") {
    const last = asArray(b.contents).at(-1);
    if (!isRecord(last)) return null;
    const parts = asArray(last.parts).filter((p) => isRecord(p) && isRecord(p.functionResponse));
    return parts.length
      ? parts.map((p) =>
        JSON.stringify((p as { functionResponse: { response: unknown } }).functionResponse.response)
      ).join("\n")
      : null;
  }
  const input = asArray(b.input);
  // Items after the last tool output (e.g. reasoning, a system note) do not end the loop.
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i];
    if (!isRecord(item)) continue;
    if (typeof item.type === "string" && item.type.endsWith("_call_output")) {
      return textOf(item.output);
    }
    if (item.type === "message" && item.role === "user") return null;
    if (item.role === "user" && item.type === undefined) return null;
  }
  return null;
}

/** All user-visible text of the request's user turns (to find the trigger). */
function userText(req: ScriptedRequest): string {
  const b = req.body;
  if (req.protocol === "gemini") {
    return asArray(b.contents).filter((c) => isRecord(c) && c.role === "user")
      .map((c) =>
        textOf(
          asArray((c as { parts: unknown }).parts).filter((p) =>
            isRecord(p) && typeof p.text === "string"
          ),
        )
      ).join("\n");
  }
  const items = req.protocol === "openai_responses"
    ? (typeof b.input === "string" ? [{ role: "user", content: b.input }] : asArray(b.input))
    : asArray(b.messages);
  return items.filter((m) => isRecord(m) && m.role === "user").map((m) =>
    textOf((m as { content: unknown }).content)
  ).join("\n");
}

/** Arguments for `tool` that run `command`, from its schema. */
export function shellArguments(tool: DeclaredTool, command: string): Record<string, unknown> {
  const props = isRecord(tool.schema.properties) ? tool.schema.properties : {};
  const required = asArray(tool.schema.required).filter((r): r is string => typeof r === "string");
  const args: Record<string, unknown> = {};
  const commandKey = ["command", "cmd", "script", "commandLine"].find((k) => k in props) ??
    "command";
  const commandSchema = props[commandKey];
  args[commandKey] = isRecord(commandSchema) && commandSchema.type === "array"
    ? ["bash", "-lc", command]
    : command;
  for (const key of required) {
    if (key in args) continue;
    const s = props[key];
    const type = isRecord(s) ? s.type : undefined;
    if (key === "description") args[key] = "Print a word";
    else if (isRecord(s) && Array.isArray(s.enum) && s.enum.length) args[key] = s.enum[0];
    else if (type === "boolean") args[key] = false;
    else if (type === "number" || type === "integer") args[key] = 30;
    else if (type === "array") args[key] = [];
    else if (type === "object") args[key] = {};
    else args[key] = "isartor";
  }
  return args;
}

function findShell(tools: DeclaredTool[]): DeclaredTool | null {
  for (const name of SHELL_NAMES) {
    const t = tools.find((t) => t.name.toLowerCase() === name);
    if (t) return t;
  }
  return null;
}

/** A script for {@linkcode MockUpstreamOptions.script} plus the steps it took. */
export interface ShellToolLoop {
  script: (req: ScriptedRequest) => MockAnswer | null;
  steps: ScriptStep[];
  /** The command the mock asks for. */
  command: string;
  trigger: string;
}

/**
 * A mock script: a request whose user turns contain the trigger gets a shell tool call; the
 * request carrying the tool result gets `The command printed: <result>`. Others get `plainText`.
 *
 * @example
 * ```ts
 * const loop = shellToolLoop({ command: "echo hi" });
 * const mock = await startMockUpstream({ script: loop.script });
 * ```
 */
export function shellToolLoop(opts: ShellToolLoopOptions = {}): ShellToolLoop {
  const trigger = opts.trigger ?? TOOL_LOOP_TRIGGER;
  const command = opts.command ?? "echo isartor-tool-ok";
  const steps: ScriptStep[] = [];
  const plain = (): MockAnswer | null =>
    opts.plainText === undefined ? null : { text: opts.plainText };
  const script = (req: ScriptedRequest): MockAnswer | null => {
    const tools = declaredTools(req);
    const names = tools.map((t) => t.name);
    if (!userText(req).includes(trigger)) {
      steps.push({ protocol: req.protocol, step: "plain", tools: names });
      return plain();
    }
    const result = trailingToolResult(req);
    if (result !== null) {
      steps.push({ protocol: req.protocol, step: "after_tool", result, tools: names });
      // Quote the expected output when it is there (clients wrap results in their own notes).
      const expected = command.startsWith("echo ") ? command.slice(5) : null;
      const quoted = expected !== null && result.includes(expected)
        ? expected
        : result.trim().slice(0, 400);
      return { text: `${AFTER_TOOL_PREFIX} ${quoted}` };
    }
    const shell = findShell(tools);
    if (shell === null) {
      steps.push({ protocol: req.protocol, step: "plain", tools: names });
      return plain();
    }
    steps.push({ protocol: req.protocol, step: "tool_call", tool: shell.name, tools: names });
    return {
      toolCall: {
        id: "call_isartor_shell_1",
        name: shell.name,
        arguments: JSON.stringify(shellArguments(shell, command)),
      },
    };
  };
  return { script, steps, command, trigger };
}
