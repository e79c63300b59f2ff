/** What a ConfigError may carry besides its message. */
export interface ConfigErrorOptions {
  /** The environment variable to change, when the setting has one. */
  readonly variable?: string | undefined;
  /** What went wrong underneath: the schema library's failure, an unreadable file, … */
  readonly cause?: unknown;
}

/**
 * The one configuration error of every costtrace service: a setting is invalid, two settings
 * contradict each other, or a configuration file cannot be read. The message names the variable,
 * the value given and what to put there; services stop at start with it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The environment variable at fault (for a rule between two settings: the one named first). */
  readonly variable: string | undefined;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.variable = options.variable;
  }
}
