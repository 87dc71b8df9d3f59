import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "./gateway-config.js";
import { loadCatalogue } from "./catalogue-file.js";
import { loadDisclosureCatalogue } from "./disclosure-catalogue-file.js";
import { packageRoot } from "./package-root.js";

const base = (extra: Record<string, unknown> = {}) => ({
  instance: "gw-1",
  trustDomain: "credex.test",
  listen: "127.0.0.1:0",
  tls: { cert: "gw.crt", key: "gw.key", ca: "ca.pem" },
  policy: { model: "m.conf", policy: "p.csv", categories: "../policies/c.yaml" },
  agencies: [],
  audit: { sink: "file", keyRing: "ring.json" },
  ...extra,
});
const catalogue = loadCatalogue(join(packageRoot(), "policies", "categories.yaml"));
const yamlFile = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "credex-disclosure-")), "disclosure.yaml");
  writeFileSync(file, text);
  return file;
};

describe("disclosure configuration", () => {
  it("ok/defaults: embedded log beside the config, disclosure.yaml beside categories, site on loopback 8088", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base());
    expect(c.policy.disclosure).toBe("/etc/policies/disclosure.yaml");
    expect(c.disclosure).toEqual({ log: "file", file: "/etc/credex/disclosure/credex.disclosure.v1.log", kafka: undefined, maxEntriesPerPublish: 500, site: { listen: "127.0.0.1:8088", pageSize: 20, requestsPerMinute: 120 } });
  });

  it("ok/kafka: the audit's brokers are shared, topic credex.disclosure.v1", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base({ audit: { sink: "kafka", keyRing: "ring.json", kafka: { brokers: ["k1:9092"] } } }));
    expect(c.disclosure.log).toBe("kafka");
    expect(c.disclosure.kafka).toEqual({ brokers: ["k1:9092"], topic: "credex.disclosure.v1", partitions: 3 });
  });

  it("fail/site listen: a public site on this machine binds loopback only", () => {
    expect(() => parseGatewayConfig("/etc/credex/gw.yaml", base({ disclosure: { site: { listen: "0.0.0.0:8088" } } }))).toThrow(/loopback only/);
  });

  it("ok/shipped policies/disclosure.yaml: four level-1 categories with their publicity periods, 7 working days", () => {
    const d = loadDisclosureCatalogue(join(packageRoot(), "policies", "disclosure.yaml"), catalogue);
    expect([...d.categories.keys()].sort()).toEqual(["administrative_license", "administrative_penalty", "dishonest_debtor", "red_list"]);
    expect([...d.categories.values()].map((c) => catalogue.categories.get(c.category)!.level)).toEqual([1, 1, 1, 1]);
    expect(d.categories.get("dishonest_debtor")!.publicityDays).toBe(730);
    expect(d.maxLagWorkingDays).toBe(7);
  });

  it("fail/a level-2 category named in disclosure.yaml refuses the file: it could never be published", () => {
    const file = yamlFile("categories:\n  tax_arrears: { kind: penalty, publicityDays: 365, label: { zh: 欠税, en: Tax arrears } }\n");
    expect(() => loadDisclosureCatalogue(file, catalogue)).toThrow(/level 2 in the credit catalogue; only level-1/);
  });

  it("fail/a deadline looser than 7 working days (2700号) is refused", () => {
    const file = yamlFile("maxLagWorkingDays: 8\ncategories: {}\n");
    expect(() => loadDisclosureCatalogue(file, catalogue)).toThrow(/maxLagWorkingDays/);
  });
});
