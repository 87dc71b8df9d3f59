import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DisclosureAction, type DisclosureEntrySchema } from "../src/gen/credex/v1/disclosure_pb.js";
import { AuditEventType, DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { readFileSync } from "node:fs";
import { createDisclosureVerifier, disclosureKey } from "../src/core/disclosure/signed-disclosure.js";
import { DisclosureState } from "../src/core/disclosure/disclosure-state.js";
import { followDisclosureFeed } from "../src/core/disclosure/follow-feed.js";
import { auditEvents, failureOf, startTestFederation } from "./support/federation.js";
import { usccWithCheck } from "./support/uscc.js";
import { credex } from "./support/cli.js";

type EntryInit = MessageInitShape<typeof DisclosureEntrySchema>;
type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
const DAY_MS = 86_400_000;
const company = { type: SubjectType.LEGAL_PERSON, id: usccWithCheck(777) };
const daysAgo = (n: number) => timestampFromDate(new Date(Date.now() - n * DAY_MS));

function entry(init: Record<string, unknown> = {}): EntryInit {
  return {
    action: DisclosureAction.PUBLISH,
    category: "administrative_penalty",
    subject: company,
    subjectName: "Example Penalised Co.",
    title: "Fine of CNY 10,000",
    decisionNumber: "沪市监罚〔2026〕7号",
    decisionDate: daysAgo(1),
    sourceDepartment: "SAMR Shanghai",
    legalBasis: "Advertising Law Art. 55",
    ...init,
  } as EntryInit;
}

let fed: TestFederation;
beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

describe("PublishDisclosures: what an owner may put on the public feed (双公示)", () => {
  it("stamps owner, publication date, publicity period from the catalogue and the working-day lag; natural persons' ids stored masked", async () => {
    const r = await fed.client("sh-credit").publishDisclosures({
      entries: [entry(), entry({ category: "dishonest_debtor", subject: { type: SubjectType.NATURAL_PERSON, id: "11010519491231002X" }, subjectName: "张三" })],
    });
    const [penalty, debtor] = r.entryIds.map((id) => fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id))!);
    expect(penalty!.ownerAgency).toBe("sh-credit");
    // policies/disclosure.yaml: penalties 365 days, dishonest debtors 730 days, from the decision date.
    const days = (e: typeof penalty) => Math.round((timestampDate(e!.publicityUntil!).getTime() - timestampDate(e!.decisionDate!).getTime()) / DAY_MS);
    expect(days(penalty)).toBe(365);
    expect(days(debtor)).toBe(730);
    expect(debtor!.subject!.id).toBe("110105********002X");
    expect(r.lagWorkingDays.every((d) => d <= 1)).toBe(true);
  });

  it("corrects an entry in place: same id, new content, the first publication's date and lag kept", async () => {
    const sh = fed.client("sh-credit");
    const [id] = (await sh.publishDisclosures({ entries: [entry({ decisionDate: daysAgo(3) })] })).entryIds;
    const first = fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id!))!;
    await sh.publishDisclosures({ entries: [entry({ action: DisclosureAction.CORRECT, entryId: id, title: "Fine of CNY 1,000 (amount corrected)", reason: "wrong amount", decisionDate: daysAgo(3) })] });
    const corrected = fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id!))!;
    expect(corrected.title).toBe("Fine of CNY 1,000 (amount corrected)");
    expect(corrected.firstPublishedAt).toEqual(first.publishedAt);
    expect(corrected.lagWorkingDays).toBe(first.lagWorkingDays);
    expect(timestampDate(corrected.publishedAt!) > timestampDate(first.publishedAt!)).toBe(true);
  });

  it("refuses categories that are not level 1, not in the feed, or not owned by the caller's sector (catalogue owners)", async () => {
    expect((await failureOf(fed.client("sh-credit").publishDisclosures({ entries: [entry({ category: "tax_arrears" })] }))).reason).toBe("DISCLOSURE_NOT_PUBLIC");
    expect((await failureOf(fed.client("pbccrc").publishDisclosures({ entries: [entry({ category: "loan_overdue" })] }))).reason).toBe("DISCLOSURE_NOT_PUBLIC");
    expect((await failureOf(fed.client("sh-credit").publishDisclosures({ entries: [entry({ category: "no_such_thing" })] }))).reason).toBe("DISCLOSURE_CATEGORY_UNKNOWN");
    // dishonest_debtor is owned by REGIONAL; csrc is SECURITIES.
    const notOwner = await failureOf(fed.client("csrc").publishDisclosures({ entries: [entry({ category: "dishonest_debtor" })] }));
    expect(notOwner.reason).toBe("DISCLOSURE_NOT_OWNER");
    const denied = (await auditEvents(fed)).filter((e) => e.type === AuditEventType.DISCLOSURE && e.requester?.agencyId === "csrc");
    expect(denied.at(-1)!.decision?.effect).toBe(DecisionEffect.DENY);
  });

  it("refuses what only the gateway sets, future decisions, and decisions whose publicity already ended", async () => {
    const sh = fed.client("sh-credit");
    const reasons = await Promise.all([
      failureOf(sh.publishDisclosures({ entries: [entry({ ownerAgency: "csrc" })] })),
      failureOf(sh.publishDisclosures({ entries: [entry({ publicityUntil: daysAgo(-3650) })] })),
      failureOf(sh.publishDisclosures({ entries: [entry({ decisionDate: daysAgo(-2) })] })),
      failureOf(sh.publishDisclosures({ entries: [entry({ decisionDate: daysAgo(400) })] })),
      failureOf(sh.publishDisclosures({ entries: [entry({ legalBasis: "" })] })),
    ]);
    expect(reasons.map((r) => r.reason)).toEqual(Array(5).fill("DISCLOSURE_ENTRY_INVALID"));
    expect(reasons.map((r) => r.metadata["field"])).toEqual([
      "owner_agency/published_at/publicity_until/first_published_at/lag_working_days",
      "owner_agency/published_at/publicity_until/first_published_at/lag_working_days",
      "decision_date",
      "decision_date",
      "legal_basis",
    ]);
  });

  it("accepts all entries or none: one bad entry appends nothing", async () => {
    const before = await fed.gateway.disclosure.log.endPosition();
    const refused = await failureOf(fed.client("sh-credit").publishDisclosures({ entries: [entry(), entry({ subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217X" } })] }));
    expect(refused.reason).toBe("USCC_INVALID");
    expect(await fed.gateway.disclosure.log.endPosition()).toEqual(before);
  });

  it("lets only the entry's owner correct or withdraw it", async () => {
    const [id] = (await fed.client("sh-credit").publishDisclosures({ entries: [entry()] })).entryIds;
    const other = await failureOf(fed.client("pbccrc").publishDisclosures({ entries: [{ action: DisclosureAction.WITHDRAW, category: "administrative_penalty", entryId: id!, reason: "x" }] }));
    expect(other.reason).toBe("DISCLOSURE_ENTRY_NOT_FOUND");
    const correct = await failureOf(fed.client("pbccrc").publishDisclosures({ entries: [entry({ action: DisclosureAction.CORRECT, entryId: id, reason: "x" })] }));
    expect(correct.reason).toBe("DISCLOSURE_ENTRY_NOT_FOUND");
    expect(fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id!))).toBeDefined();
    // Withdrawn once, it is gone: a second withdrawal finds nothing.
    const sh = fed.client("sh-credit");
    await sh.publishDisclosures({ entries: [{ action: DisclosureAction.WITHDRAW, category: "administrative_penalty", entryId: id!, reason: "credit repair" }] });
    expect(fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id!))).toBeUndefined();
    expect((await failureOf(sh.publishDisclosures({ entries: [{ action: DisclosureAction.WITHDRAW, category: "administrative_penalty", entryId: id!, reason: "again" }] }))).reason).toBe("DISCLOSURE_ENTRY_NOT_FOUND");
  });

  it("a reader started afresh (a restarted gateway, a new site) rebuilds the same current entries from the feed", async () => {
    const state = new DisclosureState();
    const verify = createDisclosureVerifier({ caBundlePem: readFileSync(fed.gateway.config.tls.ca, "utf8"), trustDomain: fed.gateway.config.trustDomain });
    const follower = await followDisclosureFeed(fed.gateway.disclosure.log, state, verify, (problem) => {
      throw new Error(`refused: ${problem}`);
    });
    await follower.caughtUp;
    await follower.reader.close();
    const now = new Date();
    const ids = (s: DisclosureState) => s.current(now).map((e) => `${e.entryId}:${e.title}`).sort();
    expect(ids(state)).toEqual(ids(fed.gateway.disclosure.state));
    expect(follower.refused()).toBe(0);
    expect(state.size).toBe(3);
  });

  it("checks the 7-working-day rule (2700号) for licences and penalties: a late one is an incident for its owner; a list entry's lag is only recorded", async () => {
    const sh = fed.client("sh-credit");
    // Monday-to-Friday: 14 calendar days back are at least 10 working days.
    const late = await sh.publishDisclosures({ entries: [entry({ decisionDate: daysAgo(14) }), entry({ category: "dishonest_debtor", decisionDate: daysAgo(14) })] });
    expect(late.lagWorkingDays.every((d) => d >= 10)).toBe(true);
    const incidents = fed.incidents!.manager.list().filter((i) => i.detector === "disclosure-late");
    expect(incidents.map((i) => i.evidence.attributes["entry_id"])).toEqual([late.entryIds[0]]);
    expect(incidents[0]!.evidence.attributes["owner"]).toBe("sh-credit");
    expect(incidents[0]!.level).toBe("IV");
  });

  it("credex disclosure publish and withdraw: the operator's commands for the same call", async () => {
    const common = ["--dir", fed.dir, "--as", "sh-credit", "--category", "administrative_penalty"];
    const decided = new Date(Date.now() + 8 * 3_600_000 - DAY_MS).toISOString().slice(0, 10);
    const published = await credex("disclosure", "publish", ...common, "--subject", company.id, "--name", "CLI Co.", "--title", "Fine", "--number", "N-1", "--decided", decided, "--department", "SAMR", "--legal-basis", "Art. 1");
    expect(published.code).toBe(0);
    const id = /^(\S+) \(\d+ working days from decision to publication\)/.exec(published.stdout)![1]!;
    expect(fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id))?.subjectName).toBe("CLI Co.");
    const withdrawn = await credex("disclosure", "withdraw", ...common, "--entry", id, "--reason", "credit repair");
    expect(withdrawn).toMatchObject({ code: 0, stdout: `withdrawn ${id}\n` });
    expect(fed.gateway.disclosure.state.get(disclosureKey("sh-credit", id))).toBeUndefined();
    const again = await credex("disclosure", "withdraw", ...common, "--entry", id, "--reason", "again");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("DISCLOSURE_ENTRY_NOT_FOUND");
    const badDate = await credex("disclosure", "publish", ...common, "--subject", company.id, "--name", "n", "--title", "t", "--number", "n", "--decided", "2026-02-30", "--department", "d", "--legal-basis", "b");
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain("--decided must be a date YYYY-MM-DD");
  });
});
