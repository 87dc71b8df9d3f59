import { readFileSync } from "node:fs";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Purpose, SubjectRequestKind } from "../gen/credex/v1/types_pb.js";
import { signSubjectRequest } from "../client/subject-request.js";
import { demoQuery, type DemoExchange, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

/**
 * A court's enforcement query that goes without consent under a statutory exemption
 * (Regulation Art. 18; policies/exemptions.yaml), then the person's own view of who
 * queried them, read from the audit (Art. 22; PIPL Art. 45).
 */
export const SUBJECT_QUERY_STEPS: readonly DemoStep[] = [
  {
    title: "a subject's query history",
    run: async (f: Federation) => {
      const borrower = DEMO_SUBJECTS.borrower;
      const rows: DemoExchange[] = [
        await demoQuery(
          f,
          "court enforcement via the regional platform: no consent, statutory exemption (audited with its legal basis)",
          "sh-credit",
          { subject: borrower, categories: ["loan_overdue"], purpose: Purpose.ENFORCEMENT, statutoryExemption: "court_enforcement" },
          "OK",
        ),
      ];
      const started = performance.now();
      const now = Date.now();
      const subjectRequest = signSubjectRequest(
        {
          kind: SubjectRequestKind.QUERY_HISTORY,
          requestId: `demo-history-${now}`,
          subject: borrower,
          grantedAt: timestampFromDate(new Date(now - 60_000)),
          expiresAt: timestampFromDate(new Date(now + 86_400_000)),
          requesterAgency: "nfra",
        },
        readFileSync(f.pki.agencies["nfra"]!.client.key),
      );
      let outcome: string;
      let perAgency = "";
      let asExpected = false;
      try {
        const { queries } = await f.client("nfra").listSubjectQueries({ subject: borrower, subjectRequest });
        outcome = `answered: ${queries.length} queries about the borrower`;
        // One line per agency, purpose and basis: how many queries, how many refused.
        const groups = new Map<string, { n: number; refused: number }>();
        for (const q of queries) {
          const key = `${q.agencyId}/${Purpose[q.purpose]}${q.statutoryExemption ? ` [${q.statutoryExemption}]` : ""}`;
          const g = groups.get(key) ?? { n: 0, refused: 0 };
          groups.set(key, { n: g.n + 1, refused: g.refused + (q.answered ? 0 : 1) });
        }
        perAgency = [...groups].map(([key, g]) => `${key} ×${g.n}${g.refused ? ` (${g.refused} refused)` : ""}`).join("  ");
        asExpected = queries.some((q) => q.agencyId === "pbccrc" && q.purpose === Purpose.LOAN_APPROVAL) && queries.some((q) => q.statutoryExemption === "court_enforcement");
      } catch (err) {
        outcome = `refused: ${(err as Error).message}`;
      }
      rows.push({
        title: "the borrower asks through the insurer who queried them (signed subject request; read from the audit)",
        requester: "nfra",
        purpose: "—",
        categories: [],
        outcome,
        perAgency,
        latencyMs: performance.now() - started,
        asExpected,
      });
      return rows;
    },
  },
];
