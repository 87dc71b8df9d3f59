import type { X509Certificate } from "node:crypto";
import type { ControlChannel, ControlSubscription } from "./control-channel.js";
import { ControlItemError, decodeControlItem, verifyControlItem, type ControlItem } from "./control-item.js";

export type ControlHandler = (item: ControlItem) => void;

export interface ControlConsumerOptions {
  readonly channel: ControlChannel;
  /** Certificates whose keys may sign control items (the CA bundle in use). */
  readonly trusted: () => readonly X509Certificate[];
  /** Handlers by item type; more can be added with on(). */
  readonly handlers?: Readonly<Record<string, ControlHandler>>;
  /** A record refused (malformed, unknown signer, bad signature, bad payload): reported, never applied. */
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
 * its handler sees it.
 */
export async function startControlConsumer(options: ControlConsumerOptions): Promise<ControlConsumer> {
  const handlers = new Map(Object.entries(options.handlers ?? {}));
  let applied = 0;
  let rejected = 0;
  const reject = (err: ControlItemError, key: string) => {
    rejected++;
    options.onRejected?.(err, key);
  };
  const subscription: ControlSubscription = await options.channel.subscribe((record) => {
    try {
      const item = decodeControlItem(record.value);
      verifyControlItem(item, options.trusted());
      const handler = handlers.get(item.type);
      if (!handler) throw new ControlItemError("UNKNOWN_TYPE", `no handler for control item type "${item.type}"`);
      handler(item);
      applied++;
      options.onApplied?.(item);
    } catch (err) {
      if (err instanceof ControlItemError) reject(err, record.key);
      else reject(new ControlItemError("BAD_PAYLOAD", (err as Error).message), record.key);
    }
  });
  return {
    on: (type, handler) => void handlers.set(type, handler),
    applied: () => applied,
    rejected: () => rejected,
    close: () => subscription.close(),
  };
}
