/**
 * The deployment files (deploy/docker-compose.yml, deploy/kubernetes/) read as
 * Docker Compose and Kubernetes read them, and their ISARTOR__* variables read
 * by the gateway's own config loader.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { DockerfileParser } from "dockerfile-ast";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { REPO as REPO_ROOT } from "./cli_runner.ts";

/** A file of the repository, as text. */
export const readRepoFile = (path: string): Promise<string> =>
  Deno.readTextFile(`${REPO_ROOT}/${path}`);

/** Names that hold a credential: never written inline in a manifest. */
export const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN/;

/** The Dockerfile's `ENV` variables (the image's defaults under every manifest) and `EXPOSE` ports. */
export async function imageDefaults(): Promise<{ env: Record<string, string>; expose: number[] }> {
  const df = DockerfileParser.parse(await readRepoFile("Dockerfile"));
  const env: Record<string, string> = {};
  for (const instruction of df.getENVs()) {
    for (const p of instruction.getProperties()) env[p.getName()] = p.getValue() ?? "";
  }
  const expose = df.getInstructions().filter((i) => i.getKeyword() === "EXPOSE")
    .flatMap((i) => i.getArguments().map((a) => Number(a.getValue().split("/")[0])));
  return { env, expose };
}

/**
 * Compose's interpolation of `${NAME}` and `${NAME:-default}` (the two forms the
 * compose file uses); any other `$` form fails the test rather than pass unread.
 */
export function interpolate(value: string, vars: Record<string, string>): string {
  const out = value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => vars[name] || (fallback ?? ""),
  );
  assert.ok(!out.includes("$"), `uninterpolated ${value}`);
  return out;
}

/** `KEY=VALUE` lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const eq = t.indexOf("=");
    out[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return out;
}

function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const p of path) v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : v;
  return v;
}

/**
 * Loads `env` exactly as `isartor up` does (no config file), and asserts that
 * every ISARTOR__* variable is a key the gateway reads, under its own name
 * (not an alias of the replaced gateway's), with the value written.
 */
export function gatewayReads(env: Record<string, string>, where: string): Config {
  const loaded = loadConfig({
    cwd: "/nonexistent/isartor-deploy-test",
    home: "/nonexistent/isartor-deploy-home",
    env,
    readTextFile: () => null,
  });
  assert.deepEqual(loaded.unknownKeys, [], `${where}: keys the gateway does not know`);
  assert.deepEqual(loaded.unusedKeys, [], `${where}: keys with no effect`);
  assert.deepEqual(loaded.mappedKeys, [], `${where}: legacy aliases instead of our keys`);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("ISARTOR__")) continue;
    const path = name.slice("ISARTOR__".length).toLowerCase().split("__");
    const value = valueAt(loaded.config, path);
    assert.notEqual(value, undefined, `${where}: ${name} is not a key of the config`);
    assert.equal(loaded.origins[path[0]], `environment ISARTOR__${path[0].toUpperCase()}`);
    if (typeof value === "object") assert.deepEqual(value, JSON.parse(raw), name);
    else assert.equal(String(value), raw, `${where}: ${name}`);
  }
  return loaded.config;
}

/** deploy/docker-compose.yml, parsed. */
// deno-lint-ignore no-explicit-any
export async function composeFile(): Promise<{ services: Record<string, any> }> {
  return parseYaml(await readRepoFile("deploy/docker-compose.yml"));
}

/** The example of the compose file's env file (the keys, as placeholders). */
export async function secretsExample(): Promise<Record<string, string>> {
  return parseEnvFile(await readRepoFile("deploy/isartor.secrets.env.example"));
}

/**
 * The gateway service's environment as Compose hands it over (`vars` are the
 * shell's, for interpolation), under the image's defaults and the example keys.
 */
export async function composeEnv(vars: Record<string, string>): Promise<Record<string, string>> {
  const gw = (await composeFile()).services.isartor;
  const env: Record<string, string> = { ...(await imageDefaults()).env, ...await secretsExample() };
  for (const [k, v] of Object.entries(gw.environment as Record<string, string>)) {
    env[k] = interpolate(String(v), vars);
  }
  return env;
}

/** A Kubernetes object, as far as these checks read it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // deno-lint-ignore no-explicit-any
  [field: string]: any;
}

/** The kustomization and every object of the files it lists, in order. */
export async function kubernetesObjects(): Promise<{
  kustomization: { namespace: string; resources: string[] };
  objects: K8sObject[];
}> {
  const kustomization = parseYaml(await readRepoFile("deploy/kubernetes/kustomization.yaml"));
  const objects: K8sObject[] = [];
  for (const file of kustomization.resources as string[]) {
    const docs = parseAllDocuments(await readRepoFile(`deploy/kubernetes/${file}`));
    for (const doc of docs) {
      assert.deepEqual(doc.errors, [], file);
      objects.push(doc.toJS() as K8sObject);
    }
  }
  return { kustomization, objects };
}

/** The one object of a kind and name; fails when absent. */
export function objectOf(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name}`);
  return found[0];
}

/** A container port given by name or number, as a number. */
export function portNumber(
  container: { ports?: { name?: string; containerPort: number }[] },
  port: string | number,
): number {
  if (typeof port === "number") return port;
  const found = container.ports?.find((p) => p.name === port);
  assert.ok(found, `no container port named ${port}`);
  return found.containerPort;
}
