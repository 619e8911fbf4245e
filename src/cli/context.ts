/** What every command shares: the validated config (loaded once) and the exit codes. */
import { loadConfig, type Config } from '../config';

/** Exit code for a configuration error (one line per bad variable on stderr). */
export const EXIT_CONFIG = 2;
/** Exit code for any other failure. */
export const EXIT_FAILURE = 1;

let cached: Config | undefined;

/** The config from the environment and `.env`; throws ConfigError, which the CLI turns into exit code 2. */
export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}
