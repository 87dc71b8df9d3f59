import { describe, expect, it } from "vitest";
import { parseKafkaBrokers } from "./kafka-client.js";

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
