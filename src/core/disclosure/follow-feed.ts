import type { ListLog, LogReader } from "../lists/list-log.js";
import type { DisclosureEntry } from "../../gen/credex/v1/disclosure_pb.js";
import type { DisclosureState } from "./disclosure-state.js";

export interface FeedFollower {
  readonly reader: LogReader;
  /** Records refused by the verifier (forged, altered, moved, or signed by a non-gateway): never applied. */
  readonly refused: () => number;
  /** Resolves once the state holds every record that was in the feed when following began. */
  readonly caughtUp: Promise<void>;
}

/**
 * Follows the feed from its start and applies every record that verifies to
 * `state`: the current entries, then every later publication, correction and
 * withdrawal as it is appended, so a withdrawal reaches every reader. A record
 * that does not verify is reported (`onRefused`) and not applied: a public
 * reader shows only what a gateway signed. `refused()` counts them all.
 */
export async function followDisclosureFeed(
  log: ListLog,
  state: DisclosureState,
  verify: (key: string, value: Uint8Array) => DisclosureEntry,
  onRefused: (problem: string, at: { partition: number; offset: bigint }) => void,
): Promise<FeedFollower> {
  const end = await log.endPosition();
  const position = new Map<number, bigint>();
  let refused = 0;
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  const check = () => {
    for (const [partition, offset] of end) if ((position.get(partition) ?? 0n) < offset) return;
    markCaughtUp();
  };
  check();
  const reader = await log.read(new Map(), async (batch) => {
    for (const record of batch.records) {
      try {
        if (state.apply(record.key, verify(record.key, record.value)) === "stale") throw new Error("older than the entry's latest record (replayed): not applied");
      } catch (err) {
        refused++;
        // The first ten, then every thousandth: a topic full of foreign records (another exchange's, an attack) must not flood the log.
        if (refused <= 10 || refused % 1000 === 0) onRefused(`${(err as Error).message} (${refused} refused so far)`, record);
      }
      position.set(record.partition, record.offset + 1n);
    }
    check();
  });
  return { reader, refused: () => refused, caughtUp };
}
