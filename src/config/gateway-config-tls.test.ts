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

  it("ok/defaults: files are watched; no control channel", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base({}));
    expect(c.tls.watch).toBe(true);
    expect(c.control).toBeUndefined();
  });

  it("ok/control", () => {
    const c = parseGatewayConfig("/etc/credex/gw.yaml", base({ watch: false }, { control: { kafka: { brokers: ["k1:9092"] } } }));
    expect(c.control).toEqual({ kind: "kafka", brokers: ["k1:9092"], topic: "credex.control.v1" });
    expect(parseGatewayConfig("/etc/credex/gw.yaml", base({}, { control: { file: "control.jsonl" } })).control).toEqual({ kind: "file", file: "/etc/credex/control.jsonl" });
  });

  it("fail/control needs exactly one transport", () => {
    expect(() => parseGatewayConfig("gw.yaml", base({}, { control: {} }))).toThrow("control: give exactly one of kafka or file");
    expect(() => parseGatewayConfig("gw.yaml", base({}, { control: { kafka: { brokers: [] } } }))).toThrow("needs at least one broker");
    expect(() => parseGatewayConfig("gw.yaml", base({ crl: 3 }))).toThrow(/tls\.crl/);
  });

  it.each([
    ["fail/a CA directory to renew from", { caDir: "ca" }],
    ["fail/a CA directory with the passphrase of its keys", { caDir: "ca", passphraseFile: "pass", name: "gateway" }],
    ["fail/even an empty renew section", {}],
  ])("%s: the gateway config cannot point at the CA key (issue 16 item 10)", (_name, renew) => {
    expect(() => parseGatewayConfig("gw.yaml", base({ renew }))).toThrow(
      "gw.yaml: tls.renew: the gateway no longer renews its own certificate and never reads the CA directory or its key: remove this key and renew on the CA host with `credex pki renew gateway --install-cert <tls.cert> --install-key <tls.key>`",
    );
  });
});
