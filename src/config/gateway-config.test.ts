import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { parse } from "yaml";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadGatewayConfig, parseGatewayConfig, DEFAULT_LIMITS } from "./gateway-config.js";
import { ConfigError } from "./config-reader.js";
import { loadCatalogue } from "./catalogue-file.js";
import { packageRoot } from "./package-root.js";

const example = join(packageRoot(), "deploy", "gateway.example.yaml");
const base = () => parse(readFileSync(example, "utf8")) as Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests reach into an untyped YAML document on purpose
type Doc = any;

function problem(mutate: (doc: Doc) => void): string {
  const doc = base();
  mutate(doc);
  try {
    parseGatewayConfig("gw.yaml", doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return "valid";
}

describe("gateway config", () => {
  it.each(["TAX", "MARKET_SUPERVISION", "COURT", "CREDIT_BUREAU"])("ok/%s is a registry sector (member types)", (sector) => {
    const doc: Doc = base();
    Object.assign(doc.agencies[0], { sector, clearance: 3 });
    expect(parseGatewayConfig("gw.yaml", doc).agencies[0]!.sector).toBe(sector);
  });

  it("ok/the shipped example is valid, frozen, with defaults filled", () => {
    const config = loadGatewayConfig(example);
    expect(config.agencies.map((a) => a.id)).toEqual(["pbccrc", "csrc", "sh-credit"]);
    expect(config.tls.minVersion).toBe("TLSv1.3");
    expect(config.limits.maxConnectionAgeMs).toBe(DEFAULT_LIMITS.maxConnectionAgeMs);
    expect(config.policy.model).toBe(join(packageRoot(), "policies", "model.conf"));
    expect(Object.isFrozen(config.agencies[0])).toBe(true);
    // Registry roles: none unless given (issue 16 item 10: JUDICIAL needs "judicial").
    expect(config.agencies.map((a) => [a.id, a.roles])).toEqual([["pbccrc", []], ["csrc", []], ["sh-credit", ["judicial"]]]);
  });

  it("ok/--instance replaces the file's instance, validated by the same rule (one audit chain per replica)", () => {
    expect(loadGatewayConfig(example, { instance: "credex-gateway-2" }).instance).toBe("credex-gateway-2");
    expect(() => loadGatewayConfig(example, { instance: "gw 2" })).toThrow(`${example}: instance: "gw 2" does not match /^[A-Za-z0-9._-]{1,64}$/`);
  });

  it("ok/health listener: loopback 127.0.0.1:8080 and a 10 s drain unless set; absent section, no listener", () => {
    const withDefaults = base();
    withDefaults["health"] = {};
    expect(parseGatewayConfig("gw.yaml", withDefaults).health).toEqual({ listen: "127.0.0.1:8080", drainMs: 10_000 });
    const without = base();
    delete without["health"];
    expect(parseGatewayConfig("gw.yaml", without).health).toBeUndefined();
    expect(problem((d) => (d.health = { listen: "0.0.0.0:8080", drainMs: -1 }))).toBe("gw.yaml: health.drainMs: must be ≥ 0 (got -1)");
    expect(problem((d) => (d.health = { port: 8080 }))).toBe("gw.yaml: health.port: unknown key (expected one of: listen, drainMs)");
  });

  it.each([
    ["fail/bad USCC names the agency and the check", (d: Doc) => (d.agencies[1].uscc = "11100000000019713E"), 'gw.yaml: agencies[1].uscc: invalid USCC: check character at position 18 is "E", expected "D"'],
    ["fail/unknown key", (d: Doc) => (d.tls.minversion = "TLSv1.2"), "gw.yaml: tls.minversion: unknown key (expected one of: cert, key, ca, crl, minVersion, watch, renew)"],
    ["fail/unknown sector", (d: Doc) => (d.agencies[0].sector = "BANK"), 'gw.yaml: agencies[0].sector: "BANK" is not one of: BANKING, SECURITIES, INSURANCE, FOREX, REGIONAL, TAX, MARKET_SUPERVISION, COURT, CREDIT_BUREAU'],
    [
      "fail/a credit bureau registered with clearance 4 (Credit Investigation Regulation Art. 14.2: never level 4 through the exchange)",
      (d: Doc) => Object.assign(d.agencies[0], { sector: "CREDIT_BUREAU", clearance: 4 }),
      "gw.yaml: agencies[0].clearance: a CREDIT_BUREAU member never receives more than level 3 (got 4): Credit Investigation Regulation Art. 13, 14.2, 18; Planning Outline §3(3): a credit bureau never receives level-4 data through the exchange, level 3 only with the subject's consent",
    ],
    ["fail/duplicate agency", (d: Doc) => (d.agencies[1].id = "pbccrc"), 'gw.yaml: agencies[1].id: duplicate agency id "pbccrc"'],
    ["fail/clearance out of range", (d: Doc) => (d.agencies[0].clearance = 5), "gw.yaml: agencies[0].clearance: must be ≤ 4 (got 5)"],
    ["fail/TLS below 1.2", (d: Doc) => (d.tls.minVersion = "TLSv1.1"), 'gw.yaml: tls.minVersion: "TLSv1.1" is not one of: TLSv1.2, TLSv1.3'],
    ["fail/limit not a number", (d: Doc) => (d.limits.maxRequestBytes = "64k"), "gw.yaml: limits.maxRequestBytes: must be an integer"],
    ["fail/missing listen", (d: Doc) => delete d.listen, "gw.yaml: listen: must be a non-empty string"],
    ["fail/kafka sink without brokers", (d: Doc) => (d.audit.sink = "kafka"), "gw.yaml: audit.kafka: must be a mapping"],
    ["fail/unknown registry role", (d: Doc) => (d.agencies[0].roles = ["judge"]), 'gw.yaml: agencies[0].roles: unknown role "judge" (known: judicial)'],
    ["fail/registry role listed twice", (d: Doc) => (d.agencies[0].roles = ["judicial", "judicial"]), "gw.yaml: agencies[0].roles: lists a role twice"],
    // Civil Code Art. 203: rest days move an objection's deadline; only real calendar days, written as the State Council lists them.
    ["fail/objections rest day that is not a calendar day", (d: Doc) => (d.objections = { restDays: ["2026-10-01", "2026-02-30"] }), 'gw.yaml: objections.restDays[1]: "2026-02-30" is not a calendar day'],
    ["fail/objections rest day not written YYYY-MM-DD", (d: Doc) => (d.objections = { restDays: ["1 Oct 2026"] }), 'gw.yaml: objections.restDays[0]: "1 Oct 2026" does not match /^\\d{4}-\\d{2}-\\d{2}$/'],
    ["fail/audit topic with a character Kafka refuses", (d: Doc) => (d.audit.kafka = { brokers: ["127.0.0.1:9092"], topic: "credex audit" }), 'gw.yaml: audit.kafka.topic: "credex audit" does not match /^[A-Za-z0-9._-]{1,200}$/'],
  ])("%s", (_name, mutate, message) => {
    expect(problem(mutate)).toBe(message);
  });

  it("ok/objections rest days are kept as listed; none by default (no deadline moved)", () => {
    expect(parseGatewayConfig("gw.yaml", base()).objections.restDays).toEqual([]);
    const doc = base();
    doc["objections"] = { restDays: ["2026-10-01", "2026-10-02"] };
    expect(parseGatewayConfig("gw.yaml", doc).objections.restDays).toEqual(["2026-10-01", "2026-10-02"]);
  });

  // GB/T 22239-2019 8.1.4.1 d: administrators authenticate with two factors; production cannot turn it off.
  it.each([
    ["ok/production requires the admin second factor by default", { mode: "production", admin: { listen: "127.0.0.1:7443" } }, true],
    ["ok/development does not require it unless configured", { mode: "development", admin: { listen: "127.0.0.1:7443" } }, false],
    ["ok/development may require it", { mode: "development", admin: { listen: "127.0.0.1:7443", totp: { required: true } } }, true],
  ])("%s", (_name, patch, required) => {
    const doc = { ...base(), ...patch };
    expect(parseGatewayConfig("gw.yaml", doc).admin?.totp.required).toBe(required);
  });

  it("fail/GB/T 22239-2019 8.1.4.1 d: production mode cannot switch the admin second factor off", () => {
    expect(problem((d: Doc) => ((d.mode = "production"), (d.admin = { listen: "127.0.0.1:7443", totp: { required: false } })))).toBe(
      "gw.yaml: admin.totp.required: production mode requires a second factor for administrators (GB/T 22239-2019 8.1.4.1 d)",
    );
  });

  it("ok/the shipped catalogue loads; level-4 categories are exactly the sensitive ones", () => {
    const catalogue = loadCatalogue(join(packageRoot(), "policies", "categories.yaml"));
    expect(catalogue.categories.size).toBeGreaterThan(10);
    for (const c of catalogue.categories.values()) expect(c.sensitive).toBe(c.level === 4);
  });

  const catalogueWith = (fields: string): string => {
    const file = join(mkdtempSync(join(tmpdir(), "credex-catalogue-")), "categories.yaml");
    writeFileSync(file, `categories:\n  loan_record:\n    level: 3\n    owners: [BANKING]\n    fields:\n${fields}`);
    return file;
  };
  it("ok/a category may classify some of its fields on their own (release judges each at the stricter of this and the provider's label)", () => {
    const loan = loadCatalogue(catalogueWith("      collateral_valuation_cny: { level: 4 }\n      lender: { level: 2, sensitive: false }\n")).categories.get("loan_record")!;
    expect([...loan.fields!].map(([name, f]) => [name, f.level, f.sensitive])).toEqual([
      ["collateral_valuation_cny", 4, true],
      ["lender", 2, false],
    ]);
  });
  it.each([
    ["fail/field level out of range", "      lender: { level: 5 }\n", "categories.loan_record.fields.lender.level: must be ≤ 4 (got 5)"],
    ["fail/level-4 field not sensitive", "      balance: { level: 4, sensitive: false }\n", "categories.loan_record.fields.balance.sensitive: must be true exactly for level-4 fields (Art. 14.2)"],
    ["fail/unknown key of a field", "      lender: { level: 2, owner: BANKING }\n", "categories.loan_record.fields.lender.owner: unknown key (expected one of: level, sensitive, negative)"],
  ])("%s", (_name, fields, message) => {
    expect(() => loadCatalogue(catalogueWith(fields))).toThrow(message);
  });
});
