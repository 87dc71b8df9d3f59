import type { MessageInitShape } from "@bufbuild/protobuf";
import { ListEntryKind, SubscribePhase, WithdrawalReason, type ListEntrySchema, type SubscribeListsResponse } from "../../src/gen/credex/v1/lists_pb.js";
import { SubjectType } from "../../src/gen/credex/v1/types_pb.js";
import type { ExchangeClient, ListSubscription } from "../../src/client/exchange-client.js";
import { usccWithCheck } from "./uscc.js";

export type EntryInit = MessageInitShape<typeof ListEntrySchema>;

/** A dishonest-debtor entry about the n-th synthetic company. */
export function debtorEntry(n: number, listId = "dishonest_debtors"): EntryInit {
  return {
    listId,
    subject: { type: SubjectType.LEGAL_PERSON, id: syntheticUscc(n) },
    measure: "restriction on high consumption",
    legalBasis: `(2026)沪01执${n}号`,
    kind: ListEntryKind.ENTRY,
  };
}

export function withdrawalOf(entry: EntryInit, reason = WithdrawalReason.CREDIT_REPAIR): EntryInit {
  return { listId: entry.listId, subject: entry.subject, kind: ListEntryKind.WITHDRAWAL, withdrawalReason: reason };
}

/** A valid USCC (GB 32100-2015) numbered n: synthetic organisation code, both check characters computed. */
export function syntheticUscc(n: number): string {
  return usccWithCheck(n);
}

/** A subscription that records every message and the last cursor, and lets a test wait for a condition. */
export class Watcher {
  readonly messages: SubscribeListsResponse[] = [];
  cursor = "";
  private waiters: Array<() => void> = [];
  subscription: ListSubscription;

  constructor(client: ExchangeClient, listIds: string[] = [], cursor = "", onMessage?: (m: SubscribeListsResponse, w: Watcher) => void) {
    this.cursor = cursor;
    this.subscription = client.subscribeLists({ listIds, cursor }, (m) => {
      this.messages.push(m);
      if (m.cursor !== "") this.cursor = m.cursor;
      onMessage?.(m, this);
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
    this.subscription.ended.finally(() => this.waiters.forEach((f) => f())).catch(() => undefined);
  }

  get entries() {
    return this.messages.flatMap((m) => m.entries);
  }

  get live() {
    return this.messages.filter((m) => m.phase === SubscribePhase.LIVE).flatMap((m) => m.entries);
  }

  get snapshot() {
    return this.messages.filter((m) => m.phase === SubscribePhase.SNAPSHOT).flatMap((m) => m.entries);
  }

  /** Waits until `condition` holds, failing after `timeoutMs` (bounds the test, asserts nothing about speed). */
  async until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (${this.entries.length} entries received)`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}
