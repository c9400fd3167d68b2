/** The gateway's version, reported by `--version`, `/health` and the User-Agent. */
export const VERSION = "0.1.0";

/**
 * The project's GitHub repository (owner/name): the one place install.sh,
 * install.ps1, the docs and `isartor update` take it from (a test checks they agree).
 */
export const REPOSITORY = "isartor-dev/isartor";

/** The repository's web address. */
export const REPOSITORY_URL = `https://github.com/${REPOSITORY}`;
