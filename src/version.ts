/** The gateway's version, reported by `--version`, `/health` and the User-Agent. */
export const VERSION = "0.1.0";
