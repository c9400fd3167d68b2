/**
 * The Deno permission flags of the gateway process: exactly the bind address,
 * the configured provider hosts, and the data directory. Never `-A`.
 *
 * @module
 */

import type { Config } from "../src/config/schema.ts";
import { buildTargets, targetHosts } from "../src/providers/targets.ts";

/** The hosts the gateway may reach: what `isartor check` shows as the air-gap status. */
export function allowedHosts(config: Config): string[] {
  return targetHosts(buildTargets(config));
}

/** The permission flags for `deno run` of the gateway. */
export function gatewayPermissionFlags(config: Config): string[] {
  const net = [config.host_port, ...allowedHosts(config)];
  return [
    `--allow-net=${net.join(",")}`,
    `--allow-read=${config.data_dir}`,
    `--allow-write=${config.data_dir}`,
  ];
}
