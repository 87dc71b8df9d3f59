import { describe, expect, it } from "vitest";
import { createKafkaServerProperties } from "./kafka-server-properties.js";

function parse(text: string): Map<string, string> {
  const entries = text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)] as const;
    });
  return new Map(entries);
}

describe("createKafkaServerProperties", () => {
  const props = parse(createKafkaServerProperties({ brokerPort: 19092, controllerPort: 19093, logDir: "/tmp/k/data" }));

  it("ok/single-node KRaft broker that is its own controller", () => {
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.get("node.id")).toBe("1");
    expect(props.get("controller.quorum.voters")).toBe("1@127.0.0.1:19093");
    expect(props.get("controller.listener.names")).toBe("CONTROLLER");
    expect(props.get("log.dirs")).toBe("/tmp/k/data");
  });

  it("ok/listens and advertises on 127.0.0.1 only", () => {
    expect(props.get("listeners")).toBe("PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093");
    expect(props.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:19092");
    const addresses = [...props.values()].join(" ").match(/\/\/[^:]+:/g) ?? [];
    expect(new Set(addresses)).toEqual(new Set(["//127.0.0.1:"]));
  });

  it("ok/every replication factor and min ISR is 1", () => {
    const factors = [...props].filter(([k]) => k.endsWith("replication.factor"));
    const minIsr = [...props].filter(([k]) => k.endsWith("min.isr") || k === "min.insync.replicas");
    expect(factors.map(([k]) => k).sort()).toEqual([
      "default.replication.factor",
      "offsets.topic.replication.factor",
      "share.coordinator.state.topic.replication.factor",
      "transaction.state.log.replication.factor",
    ]);
    expect(minIsr.map(([k]) => k).sort()).toEqual(["min.insync.replicas", "share.coordinator.state.topic.min.isr", "transaction.state.log.min.isr"]);
    for (const [, v] of [...factors, ...minIsr]) expect(v).toBe("1");
  });

  it("ok/no rebalance delay and no automatic topic creation by default", () => {
    expect(props.get("group.initial.rebalance.delay.ms")).toBe("0");
    expect(props.get("auto.create.topics.enable")).toBe("false");
    const withAuto = parse(createKafkaServerProperties({ brokerPort: 1, controllerPort: 2, logDir: "/d", autoCreateTopics: true }));
    expect(withAuto.get("auto.create.topics.enable")).toBe("true");
  });

  it("ok/node id and backslashes in the log dir are written as Java properties expect", () => {
    const p = parse(createKafkaServerProperties({ brokerPort: 1, controllerPort: 2, logDir: "C:\\k", nodeId: 7 }));
    expect(p.get("node.id")).toBe("7");
    expect(p.get("controller.quorum.voters")).toBe("7@127.0.0.1:2");
    expect(p.get("log.dirs")).toBe("C:\\\\k");
  });

  it("ok/an SSL listener with PEM key material inline requires a client certificate (the Kubernetes deployment's listener), TLS 1.2+ only", () => {
    const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\nBBBB\n-----END ${label}-----\n`;
    const text = createKafkaServerProperties({
      brokerPort: 1,
      controllerPort: 2,
      logDir: "/d",
      ssl: { port: 3, certificateChainPem: pem("CERTIFICATE") + pem("CERTIFICATE"), keyPem: pem("PRIVATE KEY"), trustedCaPem: pem("CERTIFICATE") },
    });
    const p = parse(text);
    expect(p.get("listeners")).toBe("PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2,SSL://127.0.0.1:3");
    expect(p.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:1,SSL://127.0.0.1:3");
    expect(p.get("listener.security.protocol.map")).toBe("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL");
    expect(p.get("ssl.client.auth")).toBe("required");
    expect(p.get("ssl.enabled.protocols")).toBe("TLSv1.3,TLSv1.2");
    expect(p.get("ssl.keystore.type")).toBe("PEM");
    expect(p.get("ssl.truststore.type")).toBe("PEM");
    // One property per line: the PEM line breaks are written as the escape \n (java.util.Properties.load turns it back).
    expect(p.get("ssl.keystore.key")).toBe("-----BEGIN PRIVATE KEY-----\\nAAAA\\nBBBB\\n-----END PRIVATE KEY-----");
    expect(text.split("\n").filter((l) => l.startsWith("AAAA"))).toEqual([]);
    expect(parse(createKafkaServerProperties({ brokerPort: 1, controllerPort: 2, logDir: "/d" })).has("ssl.client.auth")).toBe(false);
  });

  it.each([
    ["fail/ssl-port-taken", { port: 2 }, "ssl.port must differ from brokerPort and controllerPort"],
    ["fail/ssl-encrypted-key", { keyPem: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----" }, "ssl.keyPem must be an unencrypted PKCS#8 PEM key"],
    ["fail/ssl-no-ca", { trustedCaPem: "" }, "ssl.trustedCaPem holds no PEM certificate"],
  ])("%s", (_name, over, message) => {
    const cert = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----";
    const ssl = { port: 3, certificateChainPem: cert, keyPem: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", trustedCaPem: cert, ...over };
    expect(() => createKafkaServerProperties({ brokerPort: 1, controllerPort: 2, logDir: "/d", ssl })).toThrow(message);
  });

  it.each([
    ["fail/port-zero", { brokerPort: 0, controllerPort: 2, logDir: "/d" }, "brokerPort must be a TCP port, got 0"],
    ["fail/port-too-large", { brokerPort: 1, controllerPort: 70000, logDir: "/d" }, "controllerPort must be a TCP port, got 70000"],
    ["fail/same-ports", { brokerPort: 5, controllerPort: 5, logDir: "/d" }, "brokerPort and controllerPort must differ"],
    ["fail/multi-line-dir", { brokerPort: 1, controllerPort: 2, logDir: "/d\nx=y" }, "logDir must be a single-line path"],
  ])("%s", (_name, input, message) => {
    expect(() => createKafkaServerProperties(input)).toThrow(message);
  });
});
