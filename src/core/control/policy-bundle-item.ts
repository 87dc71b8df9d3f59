/**
 * The "policy-bundle" control item (issue 4, `credex policy apply`): the whole
 * policy directory an operator checked and signed — model, policy, categories
 * and test cases — with its revision, creation time and operator. One fixed id
 * ("active"), so the compacted control topic keeps exactly the latest bundle
 * and a replica that starts reads the policy in force from the beginning.
 *
 * Payload: gzip (RFC 1952) of UTF-8 JSON
 *   {"v": 1, "revision", "createdAt" (RFC 3339), "operator",
 *    "model", "policy", "categories", "tests": {"<file name>": "<yaml>"}}
 * gzip keeps a 100k-line policy (≈8.5 MB of text) near 1 MB on the topic.
 */
import { promisify } from "node:util";
import { gunzip, gunzipSync, gzipSync } from "node:zlib";
import { ControlItemError, type ControlItem, type UnsignedControlItem } from "./control-item.js";

export const POLICY_BUNDLE_ITEM = "policy-bundle";
export const POLICY_BUNDLE_ID = "active";

export interface PolicyBundle {
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
/** Unpacked size limit: a bundle is policy text, not a way to exhaust a replica's memory. */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

export function policyBundleItem(bundle: PolicyBundle, issuedAt = new Date()): UnsignedControlItem {
  if (!REVISION.test(bundle.revision)) throw new RangeError(`revision "${bundle.revision}" must be 1-128 of A-Z a-z 0-9 . _ : + -`);
  const doc = {
    v: 1,
    revision: bundle.revision,
    createdAt: bundle.createdAt.toISOString(),
    operator: bundle.operator,
    model: bundle.model,
    policy: bundle.policy,
    categories: bundle.categories,
    tests: bundle.tests,
  };
  return { type: POLICY_BUNDLE_ITEM, id: POLICY_BUNDLE_ID, issuedAt, payload: gzipSync(Buffer.from(JSON.stringify(doc), "utf8"), { level: 9 }) };
}

const gunzipAsync = promisify(gunzip);

/** The bundle of a verified item; throws ControlItemError("BAD_PAYLOAD") when it is not one. */
export function policyBundleOf(item: ControlItem): PolicyBundle {
  if (item.type !== POLICY_BUNDLE_ITEM) throw new ControlItemError("BAD_PAYLOAD", `not a policy bundle: type "${item.type}"`);
  let text: string;
  try {
    text = gunzipSync(item.payload, { maxOutputLength: MAX_UNPACKED_BYTES }).toString("utf8");
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  return bundleFromJson(text);
}

/** policyBundleOf with the gunzip on libuv's thread pool: a replica keeps serving while megabytes inflate. */
export async function unpackPolicyBundle(item: ControlItem): Promise<PolicyBundle> {
  if (item.type !== POLICY_BUNDLE_ITEM) throw new ControlItemError("BAD_PAYLOAD", `not a policy bundle: type "${item.type}"`);
  let text: string;
  try {
    text = (await gunzipAsync(item.payload, { maxOutputLength: MAX_UNPACKED_BYTES })).toString("utf8");
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  return bundleFromJson(text);
}

function bundleFromJson(text: string): PolicyBundle {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ControlItemError("BAD_PAYLOAD", `the policy bundle is not gzip'd JSON (${(err as Error).message})`);
  }
  if (doc?.["v"] !== 1) throw new ControlItemError("BAD_PAYLOAD", `unsupported policy bundle version ${JSON.stringify(doc?.["v"])}`);
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
  return Object.freeze({ revision, createdAt, operator: str("operator"), model: str("model"), policy: str("policy"), categories: str("categories"), tests: Object.freeze(tests) });
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
