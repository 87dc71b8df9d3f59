import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction, type DisclosureEntry } from "../../gen/credex/v1/disclosure_pb.js";

/**
 * The feed's current entries, as every reader rebuilds it from the log: the
 * latest record per key (what Kafka compaction keeps); a WITHDRAW record
 * removes the entry, a CORRECT record replaces it. Publicity periods are
 * evaluated when entries are read (`current`), so nothing needs to be written
 * when a period ends.
 */
export class DisclosureState {
  private readonly entries = new Map<string, DisclosureEntry>();

  apply(key: string, entry: DisclosureEntry): void {
    if (entry.action === DisclosureAction.WITHDRAW) this.entries.delete(key);
    else this.entries.set(key, entry);
  }

  get(key: string): DisclosureEntry | undefined {
    return this.entries.get(key);
  }

  /** Entries not withdrawn and still within their publicity period at `now`. */
  current(now: Date): DisclosureEntry[] {
    const out: DisclosureEntry[] = [];
    for (const entry of this.entries.values()) if (withinPublicity(entry, now)) out.push(entry);
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}

export function withinPublicity(entry: DisclosureEntry, now: Date): boolean {
  return entry.publicityUntil !== undefined && timestampDate(entry.publicityUntil) > now;
}
