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
  /** Publication time of the latest record applied per key, withdrawals included. */
  private readonly latest = new Map<string, bigint>();

  /**
   * Applies a record unless it is older than (or as old as) the latest one of
   * its key this reader has applied: a gateway-signed record replayed into the
   * log later (an earlier PUBLISH after its WITHDRAW) does not bring a withdrawn
   * entry back. The gateway gives every later record of a key a later
   * publication time. "same": a record of the same time (the gateway reading
   * back what it applied when it wrote it).
   */
  apply(key: string, entry: DisclosureEntry): "applied" | "same" | "stale" {
    const at = entry.publishedAt ? entry.publishedAt.seconds * 1_000_000_000n + BigInt(entry.publishedAt.nanos) : 0n;
    const seen = this.latest.get(key);
    if (seen !== undefined && at === seen) return "same";
    if (seen !== undefined && at < seen) return "stale";
    this.latest.set(key, at);
    if (entry.action === DisclosureAction.WITHDRAW) this.entries.delete(key);
    else this.entries.set(key, entry);
    return "applied";
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
