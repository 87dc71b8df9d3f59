import { readFileSync } from "node:fs";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus, type QueryResponse } from "../gen/credex/v1/exchange_pb.js";
import { Purpose, SubjectType, type ConsentAttestation } from "../gen/credex/v1/types_pb.js";
import { signConsent } from "../client/consent.js";
import { demoQuery, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

const company = DEMO_SUBJECTS.tradingCompany;
const debtorFirm = DEMO_SUBJECTS.logisticsFirm;
const person = DEMO_SUBJECTS.borrower;

/** The subject's consent, collected and signed by the requesting agency (Art. 13, 18), for any subject type. */
function consentOf(f: Federation, requester: string, subject: { type: SubjectType; id: string }, categories: string[], purpose: Purpose, namesSensitive: boolean): ConsentAttestation {
  const now = Date.now();
  return signConsent(
    {
      consentId: `demo-consent-${requester}-${categories.join("-")}`,
      subject,
      purpose,
      categories,
      grantedAt: timestampFromDate(new Date(now - 3_600_000)),
      expiresAt: timestampFromDate(new Date(now + 30 * 86_400_000)),
      namesSensitiveCategories: namesSensitive,
      requesterAgency: requester,
    },
    readFileSync(f.pki.agencies[requester]!.client.key),
  );
}

const recordsOf = (r: QueryResponse, agency: string) => r.results.find((x) => x.agencyId === agency && x.status === AgencyStatus.OK)?.records ?? [];

/**
 * Exchanges of the tax, market-supervision, court and credit-bureau members, each
 * within the rights of its sector (src/core/sector-rights.ts; README, "Member types").
 */
export const MEMBER_TYPE_STEPS: readonly DemoStep[] = [
  {
    title: "member types: a credit bureau",
    run: async (f) => [
      await demoQuery(
        f,
        "credit bureau reads public and shared records of a company for a loan (registrations, arrears, penalties)",
        "credit-bureau",
        { subject: company, categories: ["administrative_penalty", "business_registration", "tax_arrears"], purpose: Purpose.LOAN_APPROVAL },
        "OK",
        (r) => recordsOf(r, "sh-amr").length === 2 && recordsOf(r, "sh-tax").length === 1,
      ),
      await demoQuery(
        f,
        "…restricted tax violations without the company's consent (Regulation Art. 13, 18)",
        "credit-bureau",
        { subject: company, categories: ["tax_violation"], purpose: Purpose.LOAN_APPROVAL },
        "SECTOR_CONSENT_REQUIRED",
      ),
      await demoQuery(
        f,
        "…with the company's consent: released, its level-4 tax amount removed",
        "credit-bureau",
        { subject: company, categories: ["tax_violation"], purpose: Purpose.LOAN_APPROVAL, consent: consentOf(f, "credit-bureau", company, ["tax_violation"], Purpose.LOAN_APPROVAL, false) },
        "OK",
        (r) => recordsOf(r, "sh-tax").length === 1 && recordsOf(r, "sh-tax").every((x) => x.fields.every((field) => field.name !== "evaded_tax_cny")),
      ),
      await demoQuery(
        f,
        "…a person's tax paid, even with written consent naming it: never level 4 to a bureau (Art. 14.2)",
        "credit-bureau",
        { subject: person, categories: ["tax_amount"], purpose: Purpose.LOAN_APPROVAL, consent: consentOf(f, "credit-bureau", person, ["tax_amount"], Purpose.LOAN_APPROVAL, true) },
        "SECTOR_LEVEL_NOT_PERMITTED",
      ),
      await demoQuery(f, "…stating ENFORCEMENT: a bureau holds no public authority", "credit-bureau", { subject: company, categories: ["administrative_penalty"], purpose: Purpose.ENFORCEMENT }, "PURPOSE_NOT_PERMITTED"),
    ],
  },
  {
    title: "member types: a court and market supervision",
    run: async (f) => [
      await demoQuery(
        f,
        "court enforcing a judgment against a person: the court_enforcement statutory exemption stands in for consent (audited with its basis)",
        "sh-court",
        { subject: person, categories: ["loan_overdue", "enforcement_case"], purpose: Purpose.ENFORCEMENT, statutoryExemption: "court_enforcement" },
        "OK",
        (r) => recordsOf(r, "pbccrc").length === 1 && recordsOf(r, "sh-court").length === 1,
      ),
      await demoQuery(
        f,
        "market supervision checks a licence applicant: court list, enforcement and abnormal operations (joint punishment, §4(1))",
        "sh-amr",
        { subject: debtorFirm, categories: ["dishonest_debtor", "enforcement_case", "abnormal_operation"], purpose: Purpose.ADMINISTRATIVE_APPROVAL },
        "OK",
        (r) => recordsOf(r, "sh-court").length === 2 && recordsOf(r, "sh-amr").length === 1,
      ),
    ],
  },
];
