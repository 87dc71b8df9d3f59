import { describe, expect, it } from "vitest";
import { auditPartitionOf } from "./kafka-audit-sink.js";

// An agency's audit records stay in one partition, so that partition keeps their chain order: the
// partition of a key must not change when the Kafka client does. The expected partitions are those
// kafkajs 2.2.4's default partitioner (the Java client's murmur2) gave for these keys.
describe("auditPartitionOf", () => {
  const cases: Array<[number, Record<string, number>]> = [
    [3, { "pbc-crc": 1, csrc: 1, cbirc: 0, safe: 1, "agency-42": 1 }],
    [12, { "pbc-crc": 7, csrc: 1, cbirc: 3, safe: 10, "agency-42": 1 }],
  ];
  for (const [partitions, expected] of cases) {
    it(`ok/${partitions} partitions: the partitions records of these agencies were written to before`, () => {
      expect(Object.fromEntries(Object.keys(expected).map((key) => [key, auditPartitionOf(key, partitions)]))).toEqual(expected);
    });
  }
});
