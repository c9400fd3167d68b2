/**
 * A real Prometheus server (Debian's `prometheus`, the package that brings
 * promtool) on 127.0.0.1, scraping one target every second, for the tests
 * that check queries against what it really stored.
 *
 * @module
 */

import { findProgram } from "./system_tool.ts";

/** The prometheus binary, or null when none is installed. */
export function prometheusPath(): string | null {
  return findProgram(["/usr/bin/prometheus", "/usr/local/bin/prometheus"]);
}

/** A free loopback port (listen, read, close). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** One instant query's series: labels and value. */
export type Series = { metric: Record<string, string>; value: [number, string] }[];

/** A running Prometheus. */
export interface TestPrometheus {
  url: string;
  /** An instant query; throws on a PromQL error. */
  query(expr: string): Promise<Series>;
  /** Waits until the target was scraped successfully at least `n` times. */
  scraped(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts Prometheus scraping `target` (`host:port`) with this config's scrape job. */
export async function startPrometheus(
  target: string,
  options: { bearer?: string } = {},
): Promise<TestPrometheus> {
  const dir = await Deno.makeTempDir({ prefix: "isartor-prometheus-" });
  const auth = options.bearer
    ? { authorization: { type: "Bearer", credentials_file: `${dir}/key` } }
    : {};
  if (options.bearer) await Deno.writeTextFile(`${dir}/key`, options.bearer);
  // JSON is YAML: the config as Prometheus reads it.
  const config = {
    scrape_configs: [{
      job_name: "isartor",
      scrape_interval: "1s",
      scrape_timeout: "1s",
      metrics_path: "/metrics",
      static_configs: [{ targets: [target] }],
      ...auth,
    }],
  };
  await Deno.writeTextFile(`${dir}/prometheus.yml`, JSON.stringify(config));
  const port = freePort();
  const child = new Deno.Command(prometheusPath()!, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const query = async (expr: string): Promise<Series> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await res.json();
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  const until = async (check: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 300; i++) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus: timed out waiting for ${what}`);
  };
  await until(async () => (await fetch(`${url}/-/ready`)).ok, "ready");
  return {
    url,
    query,
    scraped: (n) =>
      until(
        async () => Number((await query("sum_over_time(up[1m])"))[0]?.value[1] ?? 0) >= n,
        `${n} successful scrapes`,
      ),
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
