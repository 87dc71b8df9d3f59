import { join, resolve } from "node:path";
import type { ConfigReader } from "./config-reader.js";
import { packageRoot } from "./package-root.js";
import { DEFAULT_DETECTOR_SETTINGS, type DetectorSettings } from "../core/incidents/detector-settings.js";
import { OPERATOR_CLASSES, type OperatorClass } from "../core/incidents/incident.js";

/** Gateway config `incidents:` (docs/incidents.md). Every key optional. */
export interface IncidentsConfig {
  /** Off only for embedded gateways that bring their own monitoring. */
  readonly enabled: boolean;
  /** Append-only JSON Lines file of incident snapshots (what `credex incidents --file` reads). */
  readonly file: string;
  /** Decides the reporting deadline of level III+ incidents (national emergency plan). */
  readonly operatorClass: OperatorClass;
  readonly playbooks: string;
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string } | undefined;
  readonly detectors: DetectorSettings;
}

/** Gateway config `admin:` — the GatewayAdmin listener (mTLS, admin certificates only). */
export interface AdminConfig {
  readonly listen: string;
  /**
   * Second factor for administrators (GB/T 22239-2019 8.1.4.1 d): a TOTP code (RFC 6238)
   * in the `x-credex-totp` call metadata, checked against the secret enrolled for the
   * admin certificate (`credex admin totp enroll`). An enrolled certificate always needs
   * its code; `required` also refuses certificates without an enrolment. Production
   * mode requires it.
   */
  readonly totp: {
    readonly required: boolean;
    /** Enrolments, fingerprint → secret (JSON, 0600), written by `credex admin totp enroll`. */
    readonly enrolments: string;
    /** Last time step accepted per certificate (JSON, 0600): no code is accepted twice, restarts included. */
    readonly usedCodes: string;
  };
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export function parseAdminConfig(reader: ConfigReader, at: (path: string) => string, mode: "development" | "production"): AdminConfig {
  reader.object(["listen", "totp"]);
  const totp = reader.has("totp") ? reader.field("totp").object(["required", "enrolments", "usedCodes"]) : undefined;
  const required = totp?.has("required") ? totp.field("required").boolean() : mode === "production";
  if (mode === "production" && !required) totp!.field("required").fail("production mode requires a second factor for administrators (GB/T 22239-2019 8.1.4.1 d)");
  return {
    listen: reader.field("listen").string({ pattern: HOST_PORT }),
    totp: {
      required,
      enrolments: at(totp?.has("enrolments") ? totp.field("enrolments").string() : "admin/totp-enrolments.json"),
      usedCodes: at(totp?.has("usedCodes") ? totp.field("usedCodes").string() : "admin/totp-used.json"),
    },
  };
}

export function parseIncidentsConfig(reader: ConfigReader | undefined, base: string): IncidentsConfig {
  const r = reader?.object(["enabled", "file", "operatorClass", "playbooks", "kafka", "detectors"]);
  const str = (key: string, def: string, oneOf?: readonly string[]) => (r ? r.field(key).string({ default: def, ...(oneOf ? { oneOf } : {}) }) : def);
  let kafka: IncidentsConfig["kafka"];
  if (r?.has("kafka")) {
    const k = r.field("kafka").object(["brokers", "topic"]);
    const brokers = k.field("brokers").stringList();
    if (brokers.length === 0) k.field("brokers").fail("needs at least one broker");
    kafka = { brokers, topic: k.field("topic").string({ default: "credex.incidents.v1" }) };
  }
  return {
    enabled: r ? r.field("enabled").boolean(true) : true,
    file: resolve(base, str("file", "incidents/incidents.jsonl")),
    operatorClass: str("operatorClass", "critical-infrastructure", OPERATOR_CLASSES) as OperatorClass,
    playbooks: r?.has("playbooks") ? resolve(base, r.field("playbooks").string()) : join(packageRoot(), "policies", "playbooks.yaml"),
    kafka,
    detectors: parseDetectorSettings(r?.has("detectors") ? r.field("detectors") : undefined),
  };
}

type Section = keyof DetectorSettings;

/** Each detector's section, each key optional; unknown keys are errors so that typos do not silently keep a default. */
function parseDetectorSettings(reader: ConfigReader | undefined): DetectorSettings {
  if (!reader) return DEFAULT_DETECTOR_SETTINGS;
  reader.object(Object.keys(DEFAULT_DETECTOR_SETTINGS));
  const out: Record<string, Record<string, number>> = {};
  for (const section of Object.keys(DEFAULT_DETECTOR_SETTINGS) as Section[]) {
    const defaults = DEFAULT_DETECTOR_SETTINGS[section] as unknown as Record<string, number>;
    const s = reader.has(section) ? reader.field(section).object(Object.keys(defaults)) : undefined;
    out[section] = {};
    for (const [key, def] of Object.entries(defaults)) {
      if (!s?.has(key)) {
        out[section][key] = def;
      } else if (Number.isInteger(def) && !(key === "alpha" || key === "spoolCriticalRatio")) {
        out[section][key] = s.field(key).integer({ min: 1 });
      } else {
        const f = s.field(key);
        if (typeof f.value !== "number" || !(f.value > 0 && f.value <= 1)) f.fail("must be a number in (0, 1]");
        out[section][key] = f.value as number;
      }
    }
  }
  return out as unknown as DetectorSettings;
}
