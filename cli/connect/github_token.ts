/**
 * The GitHub token `connect claude-copilot` stores: `--github-token`, else
 * GITHUB_TOKEN. (The device flow is not built yet: without a token the
 * command says how to pass one.)
 *
 * @module
 */

import type { CliIO } from "../io.ts";

/** Where a GitHub token may come from. */
export interface GithubTokenSources {
  flag?: string;
  env?: string;
  interactive: boolean;
  io: CliIO;
}

/** The GitHub token to store, or undefined when none was given. */
export function githubTokenFor(s: GithubTokenSources): Promise<string | undefined> {
  return Promise.resolve(s.flag || s.env || undefined);
}
