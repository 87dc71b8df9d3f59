/**
 * The "policy-bundle" control item (issue 4, `credex policy apply`): the whole
 * policy directory an operator checked and signed — model, policy, categories
 * and test cases — with its revision label, sequence number, creation time and
 * operator.
 *
 * The id is the bundle's SEQUENCE: a positive integer, one above the highest
 * bundle published before. A replica applies a bundle only
 * if its sequence is above every bundle it received before it, so a replayed
 * old bundle — a rollback to a policy that was replaced — is refused, and
 * because each sequence has its own key (`policy-bundle/<sequence>`),
 * compaction never lets a replayed old bundle displace the newest one: a
 * replica that starts reads every bundle and serves the highest it can apply.
 * The revision stays the operator's label (audit events carry it).
 *
 * Payload: gzip (RFC 1952) of UTF-8 JSON
 *   {"v": 2, "sequence", "revision", "createdAt" (RFC 3339), "operator",
 *    "model", "policy", "categories", "tests": {"<file name>": "<yaml>"}}
 * where "sequence" must equal the item id (the signed envelope names it too).
 * gzip keeps a 100k-line policy (≈8.5 MB of text) near 1 MB on the topic.
 * Version 1 (no sequence, id "active") is refused: it cannot be ordered.
 */
import { promisify } from "node:util";
import { gunzip, gunzipSync, gzipSync } from "node:zlib";
import { ControlItemError, type ControlItem, type UnsignedControlItem } from "./control-item.js";

export const POLICY_BUNDLE_ITEM = "policy-bundle";

export interface PolicyBundle {
  /** Monotonic: a replica refuses a bundle whose sequence is not above every bundle it received before. */
  readonly sequence: number;
  /** Operator-chosen label or content hash; recorded in every audit event once in force. */
  readonly revision: string;
  readonly createdAt: Date;
  /** Who applied it (the operator's certificate subject or a name given on the command line). */
  readonly operator: string;
  readonly model: string;
  readonly policy: string;
  readonly categories: string;
  /** tests/*.yaml by file name. */
  readonly tests: Readonly<Record<string, string>>;
}

const REVISION = /^[A-Za-z0-9._:+-]{1,128}$/;
const SEQUENCE_ID = /^[1-9][0-9]{0,15}$/;
/** Unpacked size limit: a bundle is policy text, not a way to exhaust a replica's memory. */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/** The sequence a bundle item's id names; throws ControlItemError("BAD_PAYLOAD") for any other id (e.g. version 1's "active"). */
export function policySequenceOf(item: Pick<ControlItem, "type" | "id">): number {
  if (item.type !== POLICY_BUNDLE_ITEM) throw new ControlItemError("BAD_PAYLOAD", `not a policy bundle: type "${item.type}"`);
  const n = Number(item.id);
  if (!SEQUENCE_ID.test(item.id) || !Number.isSafeInteger(n)) {
    throw new ControlItemError("BAD_PAYLOAD", `policy bundle id "${item.id}" is not a sequence number (a bundle from before sequences; republish it with credex policy apply)`);
  }
  return n;
}

export function policyBundleItem(bundle: PolicyBundle, issuedAt = new Date()): UnsignedControlItem {
  if (!REVISION.test(bundle.revision)) throw new RangeError(`revision "${bundle.revision}" must be 1-128 of A-Z a-z 0-9 . _ : + -`);
  if (!Number.isSafeInteger(bundle.sequence) || bundle.sequence < 1) throw new RangeError(`sequence ${bundle.sequence} must be a positive integer`);
  const doc = {
    v: 2,
    sequence: bundle.sequence,
    revision: bundle.revision,
    createdAt: bundle.createdAt.toISOString(),
    operator: bundle.operator,
    model: bundle.model,
    policy: bundle.policy,
    categories: bundle.categories,
    tests: bundle.tests,
  };
  return { type: POLICY_BUNDLE_ITEM, id: String(bundle.sequence), issuedAt, payload: gzipSync(Buffer.from(JSON.stringify(doc), "utf8"), { level: 9 }) };
}

const gunzipAsync = promisify(gunzip);

/** The bundle of a verified item; throws ControlItemError("BAD_PAYLOAD") when it is not one. */
export function policyBundleOf(item: ControlItem): PolicyBundle {
  const sequence = policySequenceOf(item);
  let text: string;
  try {
    text = gunzipSync(item.payload, { maxOutputLength: MAX_UNPACKED_BYTES }).toString("utf8");
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  return bundleFromJson(text, sequence);
}

/** policyBundleOf with the gunzip on libuv's thread pool: a replica keeps serving while megabytes inflate. */
export async function unpackPolicyBundle(item: ControlItem): Promise<PolicyBundle> {
  const sequence = policySequenceOf(item);
  let text: string;
  try {
    text = (await gunzipAsync(item.payload, { maxOutputLength: MAX_UNPACKED_BYTES })).toString("utf8");
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  return bundleFromJson(text, sequence);
}

function bundleFromJson(text: string, sequence: number): PolicyBundle {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  if (doc?.["v"] !== 2) throw new ControlItemError("BAD_PAYLOAD", `unsupported policy bundle version ${JSON.stringify(doc?.["v"])}`);
  // The payload names its sequence too: a payload signed for one sequence cannot be filed under another.
  if (doc["sequence"] !== sequence) throw new ControlItemError("BAD_PAYLOAD", `the policy bundle payload names sequence ${JSON.stringify(doc["sequence"])}, the item id ${sequence}`);
  const str = (k: string): string => {
    const v = doc[k];
    if (typeof v !== "string") throw new ControlItemError("BAD_PAYLOAD", `the policy bundle has no string "${k}"`);
    return v;
  };
  const revision = str("revision");
  if (!REVISION.test(revision)) throw new ControlItemError("BAD_PAYLOAD", `revision "${revision.slice(0, 140)}" has characters outside A-Z a-z 0-9 . _ : + -`);
  const createdAt = new Date(str("createdAt"));
  if (Number.isNaN(createdAt.getTime())) throw new ControlItemError("BAD_PAYLOAD", "createdAt is not a time");
  const testsDoc = doc["tests"];
  if (typeof testsDoc !== "object" || testsDoc === null || Array.isArray(testsDoc)) throw new ControlItemError("BAD_PAYLOAD", "tests must be a map of file name to text");
  const tests: Record<string, string> = {};
  for (const [name, text] of Object.entries(testsDoc as Record<string, unknown>)) {
    if (typeof text !== "string") throw new ControlItemError("BAD_PAYLOAD", `test file ${name} is not text`);
    tests[name] = text;
  }
  return Object.freeze({ sequence, revision, createdAt, operator: str("operator"), model: str("model"), policy: str("policy"), categories: str("categories"), tests: Object.freeze(tests) });
}

/** The revision a payload claims, for reporting an item that failed verification; never trusted. */
export function claimedPolicyRevision(payload: Uint8Array): string {
  try {
    const doc = JSON.parse(gunzipSync(payload, { maxOutputLength: MAX_UNPACKED_BYTES }).toString("utf8")) as { revision?: unknown };
    return typeof doc.revision === "string" && REVISION.test(doc.revision) ? doc.revision : "";
  } catch {
    return "";
  }
}
