import { readFileSync } from "node:fs";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus, type QueryResponse } from "../gen/credex/v1/exchange_pb.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import type { QueryRequestSchema } from "../gen/credex/v1/exchange_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import { signConsent } from "../client/consent.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

/** One line of the demo summary. */
export interface DemoExchange {
  readonly title: string;
  readonly requester: string;
  readonly purpose: string;
  readonly categories: readonly string[];
  readonly outcome: string;
  readonly perAgency: string;
  readonly latencyMs: number;
  /** Did the exchange end as the script expects? The demo exits non-zero otherwise. */
  readonly asExpected: boolean;
}

/** A scripted step: runs against the federation and reports what happened. */
export interface DemoStep {
  readonly title: string;
  run(federation: Federation): Promise<DemoExchange[]>;
}

type Query = MessageInitShape<typeof QueryRequestSchema>;

/** Runs one query and describes it; `expect` is the ErrorInfo reason expected, or "OK". */
export async function demoQuery(federation: Federation, title: string, requester: string, request: Query, expect: string, check?: (r: QueryResponse) => boolean): Promise<DemoExchange> {
  const started = performance.now();
  const base = {
    title,
    requester,
    purpose: Purpose[request.purpose ?? 0] ?? "?",
    categories: request.categories ?? [],
  };
  try {
    const response = await federation.client(requester).query(request);
    const latencyMs = performance.now() - started;
    const perAgency = response.results
      .map((r) => {
        const withheld = r.withheld.reduce((n, w) => n + w.records, 0);
        const removed = r.withheld.reduce((n, w) => n + w.fields, 0);
        const extra = [withheld ? `${withheld} withheld` : "", removed ? `${removed} fields removed` : "", r.records.some((x) => x.disputed) ? "disputed" : ""].filter(Boolean);
        return r.status === AgencyStatus.OK ? `${r.agencyId}:${r.records.length}${extra.length ? ` (${extra.join(", ")})` : ""}` : `${r.agencyId}:${AgencyStatus[r.status]}`;
      })
      .join("  ");
    return { ...base, outcome: "answered", perAgency, latencyMs, asExpected: expect === "OK" && (check ? check(response) : true) };
  } catch (err) {
    const latencyMs = performance.now() - started;
    const info = errorInfoOf(err as ServiceError);
    const code = GrpcStatus[(err as ServiceError).code] ?? String((err as ServiceError).code);
    return { ...base, outcome: `${code} ${info?.reason ?? ""}`.trim(), perAgency: "", latencyMs, asExpected: info?.reason === expect };
  }
}

export function demoConsent(federation: Federation, requester: string, subjectId: string, categories: string[], namesSensitive: boolean) {
  const now = Date.now();
  return signConsent(
    {
      consentId: `demo-consent-${namesSensitive ? "named" : "plain"}`,
      subject: { type: SubjectType.NATURAL_PERSON, id: subjectId },
      purpose: Purpose.LOAN_APPROVAL,
      categories,
      grantedAt: timestampFromDate(new Date(now - 3_600_000)),
      expiresAt: timestampFromDate(new Date(now + 30 * 86_400_000)),
      namesSensitiveCategories: namesSensitive,
      requesterAgency: requester,
    },
    readFileSync(federation.pki.agencies[requester]!.client.key),
  );
}

const company = DEMO_SUBJECTS.tradingCompany;
const borrower = DEMO_SUBJECTS.borrower;

/** The exchanges of the foundation demo (issue: demo federation). Later features append their own steps. */
export const FOUNDATION_STEPS: readonly DemoStep[] = [
  {
    title: "allowed query across agencies",
    run: async (f) => [
      await demoQuery(
        f,
        "bank checks a company before a loan (field-level redaction, Art. 16 expiry, disputed mark)",
        "pbccrc",
        { subject: company, categories: ["administrative_penalty", "securities_violation", "forex_violation", "business_registration"], purpose: Purpose.LOAN_APPROVAL },
        "OK",
        (r) => r.results.filter((x) => x.status === AgencyStatus.OK).length >= 4,
      ),
    ],
  },
  {
    title: "denial: purpose not allowed",
    run: async (f) => [
      await demoQuery(f, "securities regulator asks bank loans for LOAN_APPROVAL (Art. 20)", "csrc", { subject: company, categories: ["loan_overdue"], purpose: Purpose.LOAN_APPROVAL }, "PURPOSE_NOT_PERMITTED"),
    ],
  },
  {
    title: "natural person: consent",
    run: async (f) => {
      const categories = ["income", "real_estate"];
      return [
        await demoQuery(f, "mortgage check of a person without consent (Art. 13)", "pbccrc", { subject: borrower, categories, purpose: Purpose.LOAN_APPROVAL }, "CONSENT_REQUIRED"),
        await demoQuery(f, "…with consent that does not name sensitive data (Art. 14.2)", "pbccrc", { subject: borrower, categories, purpose: Purpose.LOAN_APPROVAL, consent: demoConsent(f, "pbccrc", borrower.id, categories, false) }, "OK",
          (r) => r.results.every((x) => x.records.length === 0)),
        await demoQuery(f, "…with written consent naming income and real estate", "pbccrc", { subject: borrower, categories, purpose: Purpose.LOAN_APPROVAL, consent: demoConsent(f, "pbccrc", borrower.id, categories, true) }, "OK",
          (r) => r.results.some((x) => x.records.length === 2)),
      ];
    },
  },
  {
    title: "partial answer",
    run: async (f) => {
      await f.stopAgency("safe");
      return [
        await demoQuery(f, "same company check while the forex regulator is down", "pbccrc", { subject: company, categories: ["securities_violation", "forex_violation"], purpose: Purpose.LOAN_APPROVAL }, "OK",
          (r) => r.results.some((x) => x.agencyId === "safe" && x.status === AgencyStatus.UNAVAILABLE)),
      ];
    },
  },
];

export function formatDemoTable(rows: readonly DemoExchange[]): string {
  const lines: string[] = [];
  for (const [i, r] of rows.entries()) {
    lines.push(`${String(i + 1).padStart(2)}. ${r.asExpected ? "ok " : "!! "} ${r.title}`);
    lines.push(`      ${r.requester} · ${r.purpose} · [${r.categories.join(", ")}] → ${r.outcome} in ${r.latencyMs.toFixed(1)} ms`);
    if (r.perAgency) lines.push(`      records per agency: ${r.perAgency}`);
  }
  return lines.join("\n");
}
