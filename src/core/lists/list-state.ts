import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ListEntryKind, ListEntrySchema, WithdrawalReason, type ListEntry } from "../../gen/credex/v1/lists_pb.js";

/** The log key of an entry: list id + subject pseudonym, so one subject's entries of a list stay in one partition, in order. */
export function listEntryKey(listId: string, subjectPseudonym: string): string {
  return `${listId}/${subjectPseudonym}`;
}

/** True when the entry's effective_to has passed. */
export function isExpired(entry: ListEntry, now: Date): boolean {
  return entry.effectiveTo !== undefined && timestampDate(entry.effectiveTo).getTime() <= now.getTime();
}

/**
 * What a subscriber receives for an entry read from the log: an entry whose
 * effective_to has passed is delivered as a withdrawal (reason EXPIRED), so
 * a member never applies a measure that has ended.
 */
export function deliveredForm(entry: ListEntry, now: Date): ListEntry {
  if (entry.kind !== ListEntryKind.ENTRY || !isExpired(entry, now)) return entry;
  return create(ListEntrySchema, { ...entry, kind: ListEntryKind.WITHDRAWAL, withdrawalReason: WithdrawalReason.EXPIRED });
}

/**
 * The current state of lists: the latest record per list + subject (the
 * same rule Kafka log compaction applies per key). Withdrawn and expired
 * entries are not part of the state.
 */
export class ListState {
  private readonly latest = new Map<string, ListEntry>();

  apply(key: string, entry: ListEntry): void {
    // Re-inserting moves the key to the end, so state() lists entries in the order of their latest change.
    this.latest.delete(key);
    this.latest.set(key, entry);
  }

  /** Entries in force at `now`, in the order of their latest change. */
  current(now: Date): ListEntry[] {
    const out: ListEntry[] = [];
    for (const entry of this.latest.values()) if (entry.kind === ListEntryKind.ENTRY && !isExpired(entry, now)) out.push(entry);
    return out;
  }

  get size(): number {
    return this.latest.size;
  }
}
