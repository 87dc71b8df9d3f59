import type { X509Certificate } from "node:crypto";
import type { ControlChannel, ControlSubscription } from "./control-channel.js";
import { ControlItemError, controlItemKey, decodeControlItem, verifyControlItem, type ControlItem } from "./control-item.js";

export type ControlHandler = (item: ControlItem) => void;
/** Checks an item's signature against the trusted CA certificates; throws ControlItemError. */
export type ControlVerifier = (item: ControlItem, trusted: readonly X509Certificate[]) => void;

export interface ControlConsumerOptions {
  readonly channel: ControlChannel;
  /** Certificates whose keys may sign control items (the CA bundle in use). */
  readonly trusted: () => readonly X509Certificate[];
  /** Handlers by item type; more can be added with on(). */
  readonly handlers?: Readonly<Record<string, ControlHandler>>;
  /**
   * Verifiers by item type, for items a replica signs with its gateway
   * certificate (runtime-setting-item.ts); every other type must be signed by
   * a trusted CA itself (verifyControlItem).
   */
  readonly verifiers?: Readonly<Record<string, ControlVerifier>>;
  /** A record refused (malformed, tombstone, key mismatch, unknown signer, bad signature, bad payload): reported, never applied. */
  readonly onRejected?: (error: ControlItemError, key: string) => void;
  readonly onApplied?: (item: ControlItem) => void;
}

export interface ControlConsumer {
  /** Adds the handler of a type (policy bundles, suspensions). */
  on(type: string, handler: ControlHandler): void;
  readonly applied: () => number;
  readonly rejected: () => number;
  close(): Promise<void>;
}

/**
 * Applies signed control items from a channel: replay of the current state
 * first (resolves when done), then the tail. Every item is verified before
 * its handler sees it: a value (no tombstone), a record key equal to the
 * item's own `<type>/<id>`, a trusted signer and a valid signature.
 */
export async function startControlConsumer(options: ControlConsumerOptions): Promise<ControlConsumer> {
  const handlers = new Map(Object.entries(options.handlers ?? {}));
  const verifiers = new Map(Object.entries(options.verifiers ?? {}));
  let applied = 0;
  let rejected = 0;
  const reject = (err: ControlItemError, key: string) => {
    rejected++;
    options.onRejected?.(err, key);
  };
  const subscription: ControlSubscription = await options.channel.subscribe((record) => {
    let itemKey: string | undefined;
    try {
      // A tombstone would erase the item under its key at the next compaction: it never counts as a decision.
      if (record.value.length === 0) throw new ControlItemError("TOMBSTONE", `an empty record (tombstone) under ${record.key || "no key"}: control items are never undone by deleting records`);
      const item = decodeControlItem(record.value);
      itemKey = controlItemKey(item);
      if (record.key !== itemKey) throw new ControlItemError("KEY_MISMATCH", `a record under key "${record.key}" carries control item ${itemKey}`, itemKey);
      (verifiers.get(item.type) ?? verifyControlItem)(item, options.trusted());
      const handler = handlers.get(item.type);
      if (!handler) throw new ControlItemError("UNKNOWN_TYPE", `no handler for control item type "${item.type}"`);
      handler(item);
      applied++;
      options.onApplied?.(item);
    } catch (err) {
      if (err instanceof ControlItemError) reject(err.itemKey === undefined && itemKey !== undefined ? new ControlItemError(err.reason, err.message, itemKey) : err, record.key);
      else reject(new ControlItemError("BAD_PAYLOAD", (err as Error).message, itemKey), record.key);
    }
  });
  return {
    on: (type, handler) => void handlers.set(type, handler),
    applied: () => applied,
    rejected: () => rejected,
    close: () => subscription.close(),
  };
}
