/** A configuration value is missing or malformed; `message` is one line naming the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
