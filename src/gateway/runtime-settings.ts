import type { KeyObject, X509Certificate } from "node:crypto";
import type { ControlRecord } from "../core/control/control-channel.js";
import type { ControlHandler, ControlVerifier } from "../core/control/control-consumer.js";
import { ControlItemError, controlItemKey, encodeControlItem, signControlItem, type ControlItem } from "../core/control/control-item.js";
import {
  compareSettingOrder,
  runtimeSettingItem,
  RUNTIME_SETTING_ITEMS,
  settingKey,
  verifyRuntimeSettingItem,
  type ReplicaTrust,
  type RuntimeSetting,
  type RuntimeSettingRecord,
  type SettingOrder,
} from "../core/control/runtime-setting-item.js";
import type { AgencyRateLimit } from "../core/agency-rate-limiter.js";
import type { AgencyRegistry } from "../core/registry.js";
import { CredexError } from "../core/errors.js";

/** A runtime-setting record refused (forged, replayed, not signed by a replica): reported, never applied. */
export interface RuntimeSettingRefused {
  readonly key: string;
  readonly reason: ControlItemError["reason"];
  readonly detail: string;
}

export interface RuntimeSettingsOptions {
  readonly registry: AgencyRegistry;
  readonly setRestricted: (on: boolean) => void;
  /** The per-agency rate limiter (the incident system's); throttles are recorded but bind nothing without one. */
  readonly throttle?: { throttle(agencyId: string, limit: AgencyRateLimit): void; unthrottle(agencyId: string): void } | undefined;
  readonly trust: ReplicaTrust;
  /** The CA certificates this replica trusts (its CA bundle in use). */
  readonly trusted: () => readonly X509Certificate[];
  /** The certificate and key this replica serves with (they sign what it sets). */
  readonly signer: () => { certificate: X509Certificate; key: KeyObject };
  /** Publishes on the control topic; absent when no control channel is configured (one replica). */
  readonly publish: () => ((record: ControlRecord) => Promise<void>) | undefined;
  readonly log: (fields: Record<string, unknown>) => void;
  readonly onApplied?: ((record: RuntimeSettingRecord, item: ControlItem) => void) | undefined;
  readonly onRefused?: ((refused: RuntimeSettingRefused) => void) | undefined;
}

export interface RuntimeSettings {
  /**
   * Signs the setting with this replica's key, applies it here through the
   * path every replica uses for items from the topic, and publishes it. Throws
   * CONTROL_PUBLISH_FAILED when the topic did not take it: then it is in force
   * on this replica only.
   */
  set(setting: RuntimeSetting, actor: string): Promise<void>;
  /** The control consumer's handlers and verifiers for the three item types. */
  readonly handlers: Readonly<Record<string, ControlHandler>>;
  readonly verifiers: Readonly<Record<string, ControlVerifier>>;
  /** A record the consumer refused: reported when it is under one of the three types. */
  refused(error: ControlItemError, key: string): void;
  /** The setting in force under a key (settingKey), with who set it. */
  inForce(key: string): (RuntimeSettingRecord & SettingOrder) | undefined;
  applied(): number;
  rejected(): number;
}

/**
 * The fleet-wide runtime settings of one replica (runtime-setting-item.ts):
 * suspensions, throttles and restricted mode as the control topic orders
 * them. What an officer or playbook sets here is signed, applied here and
 * published; what other replicas set arrives through the control consumer,
 * from the replay at start (before the gateway serves) and from the tail.
 */
export function createRuntimeSettings(options: RuntimeSettingsOptions): RuntimeSettings {
  const current = new Map<string, RuntimeSettingRecord & SettingOrder>();
  /** Every item this replica has decided on, by signature: a second copy of one is a replay (ROLLBACK), not a write. */
  const seen = new Set<string>();
  const identity = (item: ControlItem) => `${controlItemKey(item)} ${Buffer.from(item.signature).toString("base64")}`;
  let applied = 0;
  let rejected = 0;
  const isOurs = (key: string | undefined) => key !== undefined && RUNTIME_SETTING_ITEMS.some((t) => key.startsWith(`${t}/`));

  const report = (error: ControlItemError, key: string) => {
    rejected++;
    options.log({ msg: "runtime setting refused", key, reason: error.reason, detail: error.message });
    options.onRefused?.({ key, reason: error.reason, detail: error.message });
  };

  const enforce = (setting: RuntimeSetting, actor: string) => {
    switch (setting.kind) {
      case "agency-suspension":
        if (setting.suspended) options.registry.suspend(setting.agency, `${setting.reason} (by ${actor})`);
        else options.registry.resume(setting.agency);
        return;
      case "agency-throttle":
        if (setting.ratePerSecond === 0) options.throttle?.unthrottle(setting.agency);
        else options.throttle?.throttle(setting.agency, { ratePerSecond: setting.ratePerSecond, burst: setting.burst });
        return;
      case "restricted-mode":
        options.setRestricted(setting.on);
        return;
    }
  };

  const handle = (item: ControlItem, record: RuntimeSettingRecord) => {
    const key = controlItemKey(item);
    const order: SettingOrder = { sequence: record.sequence, issuedAt: item.issuedAt, signer: item.signer };
    const held = current.get(key);
    if (held) {
      const c = compareSettingOrder(order, held);
      // The same item again (this replica's own write coming back from the topic): already in force.
      if (c === 0) return;
      if (c < 0) {
        if (!seen.has(identity(item))) {
          // A replica's write that lost a race (it set the same setting before it had received the later one): every replica resolves it alike.
          options.log({ msg: "runtime setting superseded", key, sequence: record.sequence, actor: record.actor, inForce: held.sequence });
          seen.add(identity(item));
          return;
        }
        // The same signed item again, after a later one: a copy written back onto the topic.
        throw new ControlItemError(
          "ROLLBACK",
          `${key} sequence ${record.sequence} (issued ${item.issuedAt.toISOString()} by ${record.actor}) is not above the setting in force (sequence ${held.sequence}, issued ${held.issuedAt.toISOString()} by ${held.actor})`,
          key,
        );
      }
    }
    enforce(record.setting, record.actor);
    current.set(key, { ...record, ...order });
    seen.add(identity(item));
    applied++;
    options.log({ msg: "runtime setting applied", key, sequence: record.sequence, actor: record.actor, signer: item.signer.slice(0, 16) });
    options.onApplied?.(record, item);
  };

  // The consumer verifies before it hands an item to its handler; the verifier keeps what it parsed for the handler.
  const verified = new WeakMap<ControlItem, RuntimeSettingRecord>();
  const verifier: ControlVerifier = (item, trusted) => void verified.set(item, verifyRuntimeSettingItem(item, trusted, options.trust));
  const handler: ControlHandler = (item) => {
    const record = verified.get(item);
    if (!record) throw new ControlItemError("BAD_SIGNATURE", `control item ${controlItemKey(item)} reached its handler unverified`);
    handle(item, record);
  };

  return {
    async set(setting, actor) {
      const key = settingKey(setting);
      const { certificate, key: privateKey } = options.signer();
      const sequence = (current.get(key)?.sequence ?? 0) + 1;
      const item = signControlItem(runtimeSettingItem(setting, { sequence, actor, certificate }), certificate, privateKey);
      // Applied here through the same verification and order as an item from the topic.
      verified.set(item, verifyRuntimeSettingItem(item, options.trusted(), options.trust));
      handler(item);
      const publish = options.publish();
      if (!publish) return;
      try {
        await publish({ key, value: encodeControlItem(item) });
      } catch (err) {
        options.log({ msg: "runtime setting not published; in force on this replica only", key, sequence, detail: (err as Error).message });
        throw new CredexError("CONTROL_PUBLISH_FAILED", `${key} is in force on this replica only: the control topic did not take it (${(err as Error).message})`, { key }, { cause: err });
      }
    },
    handlers: Object.fromEntries(RUNTIME_SETTING_ITEMS.map((t) => [t, handler])),
    verifiers: Object.fromEntries(RUNTIME_SETTING_ITEMS.map((t) => [t, verifier])),
    refused(error, key) {
      if (isOurs(key) || isOurs(error.itemKey)) report(error, key);
    },
    inForce: (key) => current.get(key),
    applied: () => applied,
    rejected: () => rejected,
  };
}
