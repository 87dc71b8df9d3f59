import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "./gateway-config.js";

const base = (tls: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  instance: "gw-1",
  trustDomain: "credex.test",
  listen: "127.0.0.1:0",
  tls: { cert: "gw.crt", key: "gw.key", ca: "ca.pem", ...tls },
  policy: { model: "m.conf", policy: "p.csv", categories: "c.yaml" },
  agencies: [],
  audit: { sink: "file", keyRing: "ring.json" },
  ...extra,
});

describe("gateway config: tls and control sections", () => {
  it("ok/crl: a single file stays accepted; a list is kept in order; paths are taken from the file's folder", () => {
    expect(parseGatewayConfig("/etc/credex/gw.yaml", base({ crl: "crl.pem" })).tls.crl).toEqual(["/etc/credex/crl.pem"]);
    expect(parseGatewayConfig("/etc/credex/gw.yaml", base({ crl: ["root-crl.pem", "crl.pem"] })).tls.crl).toEqual(["/etc/credex/root-crl.pem", "/etc/credex/crl.pem"]);
    expect(parseGatewayConfig("/etc/credex/gw.yaml", base({})).tls.crl).toEqual([]);
  });

  it("ok/defaults: files are watched; no renewal; no control channel", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base({}));
    expect(c.tls.watch).toBe(true);
    expect(c.tls.renew).toBeUndefined();
    expect(c.control).toBeUndefined();
  });

  it("ok/renew and control", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base({ watch: false, renew: { caDir: "ca", passphraseFile: "pass" } }, { control: { kafka: { brokers: ["k1:9092"] } } }));
    expect(c.tls.renew).toEqual({ caDir: "/etc/credex/ca", passphraseFile: "/etc/credex/pass", name: "gateway" });
    expect(c.control).toEqual({ kind: "kafka", brokers: ["k1:9092"], topic: "credex.control.v1" });
    expect(parseGatewayConfig("/etc/credex/gw.yaml", base({}, { control: { file: "control.jsonl" } })).control).toEqual({ kind: "file", file: "/etc/credex/control.jsonl" });
  });

  it("fail/control needs exactly one transport; renew needs caDir", () => {
    expect(() => parseGatewayConfig("gw.yaml", base({}, { control: {} }))).toThrow("control: give exactly one of kafka or file");
    expect(() => parseGatewayConfig("gw.yaml", base({}, { control: { kafka: { brokers: [] } } }))).toThrow("needs at least one broker");
    expect(() => parseGatewayConfig("gw.yaml", base({ renew: {} }))).toThrow(/tls\.renew\.caDir/);
    expect(() => parseGatewayConfig("gw.yaml", base({ crl: 3 }))).toThrow(/tls\.crl/);
  });
});
