import { describe, expect, it } from "vitest";
import { ConfigReader } from "./config-reader.js";
import { parseIncidentsConfig } from "./incidents-config.js";
import { DEFAULT_DETECTOR_SETTINGS } from "../core/incidents/detector-settings.js";

const parse = (doc: unknown) => parseIncidentsConfig(new ConfigReader("gw.yaml", doc, "incidents"), "/etc/credex");

describe("gateway config incidents:", () => {
  it("ok/defaults when absent", () => {
    const c = parseIncidentsConfig(undefined, "/etc/credex");
    expect(c).toMatchObject({ enabled: true, file: "/etc/credex/incidents/incidents.jsonl", operatorClass: "critical-infrastructure", detectors: DEFAULT_DETECTOR_SETTINGS });
    expect(c.playbooks).toMatch(/policies\/playbooks\.yaml$/);
  });
  it("ok/overrides one threshold, keeps the others", () => {
    const c = parse({ operatorClass: "other", detectors: { subjectEnumeration: { distinctSubjects: 20 }, queryRate: { alpha: 0.5 } }, kafka: { brokers: ["k:9092"] } });
    expect(c.detectors.subjectEnumeration).toEqual({ windowMs: 600_000, distinctSubjects: 20 });
    expect(c.detectors.queryRate.alpha).toBe(0.5);
    expect(c.kafka).toEqual({ brokers: ["k:9092"], topic: "credex.incidents.v1" });
  });
  const cases: Array<[string, unknown, string]> = [
    ["fail/operator-class", { operatorClass: "bank" }, 'gw.yaml: incidents.operatorClass: "bank" is not one of: critical-infrastructure, state-organ, other'],
    ["fail/unknown-detector", { detectors: { harvest: {} } }, "gw.yaml: incidents.detectors.harvest: unknown key"],
    ["fail/typo-in-threshold", { detectors: { denialBurst: { treshold: 3 } } }, "gw.yaml: incidents.detectors.denialBurst.treshold: unknown key"],
    ["fail/zero-threshold", { detectors: { denialBurst: { threshold: 0 } } }, "gw.yaml: incidents.detectors.denialBurst.threshold: must be ≥ 1 (got 0)"],
    ["fail/alpha", { detectors: { queryRate: { alpha: 2 } } }, "gw.yaml: incidents.detectors.queryRate.alpha: must be a number in (0, 1]"],
    ["fail/kafka-empty", { kafka: { brokers: [] } }, "gw.yaml: incidents.kafka.brokers: needs at least one broker"],
  ];
  for (const [name, doc, message] of cases) it(name, () => expect(() => parse(doc)).toThrowError(message));
});
