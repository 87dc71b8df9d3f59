import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../../core/logger.js";

export interface JsonLoggerOptions {
  readonly component: string;
  /** Lines below this level are dropped (default "info"). */
  readonly level?: LogLevel;
  /** Where each line goes (default process.stdout). One call per line, newline included. */
  readonly write?: (line: string) => void;
  readonly clock?: () => Date;
}

/**
 * One JSON object per line: time (RFC 3339, UTC), level, component, msg,
 * trace_id (when known), then the caller's fields. The five first keys are
 * reserved: a field with one of those names is ignored rather than allowed to
 * forge them.
 */
export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = options.level ?? "info";
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const clock = options.clock ?? (() => new Date());
  const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);

  const make = (component: string): Logger => {
    const enabled = (level: LogLevel) => rank(level) >= rank(threshold);
    const log = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (!enabled(level)) return;
      const line: Record<string, unknown> = { time: clock().toISOString(), level, component, msg };
      if (fields?.trace_id) line["trace_id"] = fields.trace_id;
      for (const [k, v] of Object.entries(fields ?? {})) {
        if (v === undefined || k in line || RESERVED.has(k)) continue;
        line[k] = v;
      }
      write(`${JSON.stringify(line)}\n`);
    };
    return {
      level: threshold,
      enabled,
      log,
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      child: (c) => make(c),
    };
  };
  return make(options.component);
}

const RESERVED = new Set(["time", "level", "component", "msg", "trace_id"]);
