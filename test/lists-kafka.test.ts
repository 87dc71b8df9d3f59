import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SubscribePhase } from "../src/gen/credex/v1/lists_pb.js";
import { decodeListCursor, encodeListCursor } from "../src/core/lists/list-cursor.js";
import { startTestFederation } from "./support/federation.js";
import { readKafkaTopic, type KafkaRecordRead } from "../src/adapters/kafka/kafka-topic-reader.js";
import { loadKeyRing } from "../src/core/audit/key-ring.js";
import { subjectPseudonym } from "../src/core/audit/pseudonym.js";
import { kafkaBrokers } from "./support/kafka.js";
import { debtorEntry, Watcher, type EntryInit } from "./support/lists.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
const topic = `credex.lists.test-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  // The list log on the real broker: a lists.kafka section makes the gateway create and use the topic.
  fed = await startTestFederation({ gatewayConfig: { lists: { kafka: { brokers: [kafkaBrokers()], topic, partitions: 3 } } } });
});
afterAll(async () => {
  await fed?.cleanup();
});

const BURST = 10_000;
const PER_CALL = 250;

describe("lists on Kafka", () => {
  it("uses the Kafka topic as the list log", () => {
    expect(fed.gateway.members.listLog.name).toBe(topic);
  });

  it("resumes a subscriber disconnected in the middle of a burst of 10,000 entries with none missed or repeated", async () => {
    const first = new Watcher(fed.client("pbccrc"), ["dishonest_debtors"], "", (_m, w) => {
      if (w.entries.length >= 3_000) w.subscription.cancel();
    });
    await first.until(() => first.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE));

    const publisher = fed.client("sh-credit");
    let publishedWhenCancelled = -1;
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < BURST; i += PER_CALL) {
        const entries: EntryInit[] = [];
        for (let n = i; n < i + PER_CALL; n++) entries.push(debtorEntry(100_000 + n));
        await publisher.publishListEntries({ entries }, { timeoutMs: 30_000 });
        published += PER_CALL;
      }
    })();
    const t0 = Date.now();
    await first.until(() => first.entries.length >= 3_000, 60_000);
    publishedWhenCancelled = published;
    await first.subscription.ended;
    const before = first.entries;

    // Reconnect with the cursor of the last message received.
    const second = new Watcher(fed.client("pbccrc"), ["dishonest_debtors"], first.cursor);
    await publishing;
    await second.until(() => before.length + second.entries.length >= BURST, 60_000);
    // The final cursor covers the whole log: nothing is left to arrive (no late duplicates).
    const end = await fed.gateway.members.listLog.endPosition();
    await second.until(() => second.cursor === encodeListCursor(topic, end), 20_000);
    second.subscription.cancel();

    const all = [...before, ...second.entries];
    const ids = all.map((e) => e.subject!.id);
    expect(all).toHaveLength(BURST);
    expect(new Set(ids).size).toBe(BURST);
    expect(new Set(all.map((e) => e.entryId)).size).toBe(BURST);
    expect(second.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT)).toBe(false);
    expect(before.length).toBeGreaterThanOrEqual(3_000);
    // Report how far the burst was when the subscriber went away (not asserted: it depends on timing).
    console.info(`lists-kafka: subscriber cancelled after ${before.length} entries while ${publishedWhenCancelled} of ${BURST} were published; cursor partitions ${[...decodeListCursor(topic, first.cursor)!.keys()].join(",")}; all ${BURST} received in ${Date.now() - t0} ms`);

    // A late subscriber gets the current state (the 10,000 entries) before the live tail.
    const late = new Watcher(fed.client("csrc"), ["dishonest_debtors"]);
    await late.until(() => late.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE), 60_000);
    expect(late.snapshot).toHaveLength(BURST);
    late.subscription.cancel();
  }, 180_000);

  it("never delivers the fraud watch list to the regional platform", async () => {
    const regional = new Watcher(fed.client("sh-credit"));
    const bank = new Watcher(fed.client("nfra"), ["financial_fraud_watch", "major_tax_violators"]);
    await regional.until(() => regional.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE), 60_000);
    await bank.until(() => bank.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE), 60_000);
    const fraud = Array.from({ length: 50 }, (_, i) => debtorEntry(500_000 + i, "financial_fraud_watch"));
    await fed.client("pbccrc").publishListEntries({ entries: fraud });
    const marker = debtorEntry(600_000, "major_tax_violators");
    await fed.client("sh-credit").publishListEntries({ entries: [marker] });
    await bank.until(() => bank.live.filter((e) => e.listId === "financial_fraud_watch").length === 50 && bank.live.some((e) => e.listId === "major_tax_violators"), 30_000);
    await regional.until(() => regional.live.some((e) => e.subject?.id === marker.subject!.id), 30_000);
    const end = await fed.gateway.members.listLog.endPosition();
    await regional.until(() => regional.cursor === encodeListCursor(topic, end), 20_000);
    expect(regional.entries.filter((e) => e.listId === "financial_fraud_watch")).toEqual([]);
    regional.subscription.cancel();
    bank.subscription.cancel();
  });

  it("item 10: fail/whoever reads the list topic finds no subject id: keys are pseudonyms, every value sealed; subscribers still receive the id", async () => {
    const entry = debtorEntry(700_001, "major_tax_violators");
    const subject = entry.subject!;
    const watcher = new Watcher(fed.client("nfra"), ["major_tax_violators"]);
    await watcher.until(() => watcher.messages.some((m) => m.phase === SubscribePhase.SNAPSHOT_COMPLETE), 60_000);
    await fed.client("sh-credit").publishListEntries({ entries: [entry] });
    await watcher.until(() => watcher.live.some((e) => e.subject?.id === subject.id), 30_000);
    watcher.subscription.cancel();

    const records: KafkaRecordRead[] = [];
    await readKafkaTopic({ brokers: kafkaBrokers(), topic, onRecord: (r) => void records.push(r) });
    expect(records.length).toBeGreaterThan(0);
    const ring = await loadKeyRing(fed.manifest.keyRing);
    const key = `major_tax_violators/${subjectPseudonym(ring.pseudonymKey, subject.type!, subject.id!)}`;
    const mine = records.filter((r) => r.key === key);
    expect(mine).toHaveLength(1);
    for (const r of records) {
      expect(r.key ?? "").not.toContain(subject.id!);
      expect(r.value.includes(Buffer.from(subject.id!, "utf8"))).toBe(false);
      expect(r.value.includes(Buffer.from(entry.legalBasis!, "utf8"))).toBe(false);
      expect(r.value.subarray(0, 4).toString("latin1")).toBe("CXS1");
    }
  });
});
