import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kafkaTlsOptions, parseKafkaBrokers } from "./kafka-client.js";

describe("parseKafkaBrokers", () => {
  it.each([
    ["ok/one", "127.0.0.1:9092", ["127.0.0.1:9092"]],
    ["ok/list-with-spaces", " a:1 , b:65535,", ["a:1", "b:65535"]],
  ])("%s", (_name, input, expected) => {
    expect(parseKafkaBrokers(input)).toEqual(expected);
  });

  it.each([
    ["fail/empty", "", "no Kafka broker given (expected host:port[,host:port...])"],
    ["fail/no-port", "localhost", 'invalid Kafka broker address "localhost" (expected host:port)'],
    ["fail/port-zero", "h:0", 'invalid Kafka broker address "h:0" (expected host:port)'],
    ["fail/port-too-large", "h:65536", 'invalid Kafka broker address "h:65536" (expected host:port)'],
  ])("%s", (_name, input, message) => {
    expect(() => parseKafkaBrokers(input)).toThrow(message);
  });
});

describe("kafkaTlsOptions", () => {
  it("ok/TLS 1.2+, verification on; the files are read for each connection, so a renewed certificate is used without a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), "credex-kafka-tls-opts-"));
    const files = { ca: join(dir, "ca.crt"), cert: join(dir, "user.crt"), key: join(dir, "user.key") };
    writeFileSync(files.ca, "ca-1");
    writeFileSync(files.cert, "cert-1");
    writeFileSync(files.key, "key-1");
    const { tls, tlsServerName } = kafkaTlsOptions(files, "127.0.0.1:9093");
    // What the client passes to node:tls connect() for one connection: a copy of the options.
    const first = { ...tls };
    expect(first.minVersion).toBe("TLSv1.2");
    expect(first.rejectUnauthorized).toBe(true);
    expect(String(first.cert)).toBe("cert-1");
    writeFileSync(files.cert, "cert-2");
    writeFileSync(files.key, "key-2");
    const next = { ...tls };
    expect([String(next.cert), String(next.key), String(next.ca)]).toEqual(["cert-2", "key-2", "ca-1"]);
    // RFC 6066 §3: no IP address as SNI server name; DNS names (Strimzi's bootstrap service) are sent.
    expect(tlsServerName).toBeUndefined();
    expect(kafkaTlsOptions(files, "my-cluster-kafka-bootstrap.kafka.svc:9093").tlsServerName).toBe(true);
  });
});
