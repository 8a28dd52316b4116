// Structured JSON logs, one line per event. Secrets are scrubbed from every line as a last line of
// defence: code never logs a key on purpose, and this makes an accident harmless.
import type { Config } from "../config/env";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** The logger for everything that holds a Config: the operator's secrets are always the ones scrubbed. */
export function configLogger(config: Config, base: Record<string, unknown>): Logger {
  return createLogger(base, config.logLevel, [
    config.upstreamApiKey,
    config.adminToken,
    config.signingSecret,
  ]);
}

export function createLogger(
  base: Record<string, unknown>,
  level: LogLevel,
  secrets: readonly string[],
): Logger {
  const redact = secrets.filter((s) => s.length >= 8);
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    let line = JSON.stringify({ level: lvl, event, ...base, ...fields });
    for (const s of redact) line = line.split(s).join("[redacted]");
    (lvl === "error" ? console.error : lvl === "warn" ? console.warn : console.log)(line);
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
  };
}
