/**
 * The GitHub token `connect claude-copilot` stores: `--github-token`, else
 * GITHUB_TOKEN, else (with `--device`, or in a terminal) a sign-in through
 * GitHub's device flow (../github_device_flow.ts).
 *
 * @module
 */

import type { CliIO } from "../io.ts";
import { signInToGithub } from "../github_device_flow.ts";

/** Where a GitHub token may come from. */
export interface GithubTokenSources {
  flag?: string;
  env?: string;
  /** Run the device flow when no token was given (`--device`, or a terminal). */
  deviceFlow: boolean;
  /** GitHub's web origin (`copilot_github_url`, "" for github.com). */
  githubUrl: string;
  io: CliIO;
}

/** The GitHub token to store, or undefined when none was given and no sign-in ran. */
export async function githubTokenFor(s: GithubTokenSources): Promise<string | undefined> {
  if (s.flag || s.env) return s.flag || s.env;
  if (!s.deviceFlow) return undefined;
  return await signInToGithub((l) => s.io.err(l), s.githubUrl);
}
