/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Extra fields of one log line. `trace_id` ties the line to the exchange's
 * trace and audit record. Never put a subject id in clear here: only its
 * pseudonym (DOMAIN.md; Credit Investigation Regulation Art. 22 keeps the
 * clear id inside the sealed audit record).
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>> & { readonly trace_id?: string };

/** A structured logger (adapter: src/adapters/log/json-logger.ts). */
export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same sink, lines tagged with another component. */
  child(component: string): Logger;
}

/** A logger that drops everything (tests, embedding programs that log elsewhere). */
export const NO_LOGGER: Logger = Object.freeze({
  level: "error" as LogLevel,
  enabled: () => false,
  log() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => NO_LOGGER,
});
