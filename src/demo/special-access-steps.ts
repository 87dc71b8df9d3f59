import { SpecialAccessState } from "../gen/credex/v1/special_access_pb.js";
import { Purpose } from "../gen/credex/v1/types_pb.js";
import { demoConsent, demoQuery, type DemoExchange, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

async function step(title: string, requester: string, run: () => Promise<string>, expected: string): Promise<DemoExchange> {
  const started = performance.now();
  const outcome = await run().catch((err: Error) => `refused: ${err.message}`);
  return { title, requester, purpose: "LOAN_APPROVAL", categories: ["securities_holding"], outcome, perAgency: "", latencyMs: performance.now() - started, asExpected: outcome.startsWith(expected) };
}

/** A special application granted by the owner's approver, used once, then lapsing (issue: graded permissions, Done when). */
export const SPECIAL_ACCESS_STEPS: readonly DemoStep[] = [
  {
    title: "special application",
    run: async (f: Federation) => {
      const borrower = DEMO_SUBJECTS.borrower;
      const rows: DemoExchange[] = [];
      let applicationId = "";
      let grantId = "";
      rows.push(
        await step("bank applies to the securities regulator for a borrower's holdings (special application)", "pbccrc", async () => {
          const a = await f.client("pbccrc").requestSpecialAccess({
            subject: borrower,
            categories: ["securities_holding"],
            purpose: Purpose.LOAN_APPROVAL,
            justification: "Margin-loan collateral check, borrower's written request on file",
            durationSeconds: 3600,
            ownerAgency: "csrc",
          });
          applicationId = a.applicationId;
          return SpecialAccessState[a.state];
        }, "PENDING"),
      );
      rows.push(
        await step("…an approver of csrc (another certificate) grants one use", "csrc", async () => {
          const a = await f.client("csrc").decideSpecialAccess({ applicationId, approve: true, maxUses: 1, note: "collateral check only" });
          grantId = a.grantId;
          return `${SpecialAccessState[a.state]} (${a.usesLeft} use, until ${a.expiresAt ? new Date(Number(a.expiresAt.seconds) * 1000).toISOString() : "?"})`;
        }, "APPROVED"),
      );
      const unconsented = { subject: borrower, categories: ["securities_holding"], purpose: Purpose.LOAN_APPROVAL, specialGrantId: grantId };
      // Consent is not waived (Art. 13, 18; PIPL Art. 29): the grant widens only what the person's consent names.
      rows.push(await demoQuery(f, "…the grant alone does not stand in for the person's consent", "pbccrc", unconsented, "SPECIAL_GRANT_CONSENT_REQUIRED"));
      const query = { ...unconsented, consent: demoConsent(f, "pbccrc", borrower.id, ["securities_holding"], true) };
      rows.push(await demoQuery(f, "…with written consent naming the holdings, the grant takes effect at once", "pbccrc", query, "OK", (r) => r.results.some((x) => x.records.length === 1)));
      rows.push(await demoQuery(f, "…and lapses by itself: the second use is refused", "pbccrc", query, "SPECIAL_GRANT_EXHAUSTED"));
      return rows;
    },
  },
];
