import type { X509Certificate } from "node:crypto";
import type { ControlChannel } from "./control-channel.js";
import { controlItemKey, decodeControlItem, verifyControlItem } from "./control-item.js";
import { POLICY_BUNDLE_ITEM, policySequenceOf } from "./policy-bundle-item.js";

export interface PolicySequences {
  /** The highest sequence of a bundle on the channel that a trusted certificate signed; 0 when there is none. */
  readonly highest: number;
  /** The highest sequence a bundle claims without a valid trusted signature (ignored; worth a warning); 0 when none. */
  readonly unverified: number;
}

/**
 * The sequences of the policy bundles on a control channel, read from the
 * beginning: `credex policy apply` numbers the next bundle
 * one above `highest`, since replicas refuse any bundle that is not above
 * every bundle they received. Only signed bundles count: a forged record
 * claiming a huge sequence must not make the operator's numbering jump.
 */
export async function highestPolicySequence(channel: ControlChannel, trusted: readonly X509Certificate[]): Promise<PolicySequences> {
  let highest = 0;
  let unverified = 0;
  const subscription = await channel.subscribe((record) => {
    if (!record.key.startsWith(`${POLICY_BUNDLE_ITEM}/`) || record.value.length === 0) return;
    let sequence: number;
    try {
      const item = decodeControlItem(record.value);
      if (controlItemKey(item) !== record.key) return;
      sequence = policySequenceOf(item);
      try {
        verifyControlItem(item, trusted);
      } catch {
        unverified = Math.max(unverified, sequence);
        return;
      }
    } catch {
      return;
    }
    highest = Math.max(highest, sequence);
  });
  await subscription.close();
  return { highest, unverified };
}
