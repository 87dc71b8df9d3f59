import { readFileSync } from "node:fs";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgencyStatus, type QueryResponse } from "../gen/credex/v1/exchange_pb.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import { signConsent } from "../client/consent.js";
import { demoQuery, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";
import { DEMO_SUBJECTS } from "./synthetic-data.js";

const borrower = DEMO_SUBJECTS.borrower;

/** The borrower's consent to csrc's supervision query of their bank records (Art. 13, 18). */
function supervisionConsent(federation: Federation) {
  const now = Date.now();
  return signConsent(
    {
      consentId: "demo-consent-supervision",
      subject: { type: SubjectType.NATURAL_PERSON, id: borrower.id },
      purpose: Purpose.SUPERVISION,
      categories: ["loan_overdue"],
      grantedAt: timestampFromDate(new Date(now - 3_600_000)),
      expiresAt: timestampFromDate(new Date(now + 86_400_000)),
      namesSensitiveCategories: false,
      requesterAgency: "csrc",
    },
    readFileSync(federation.pki.agencies["csrc"]!.client.key),
  );
}

/** pbccrc's answer: the notified overdue loan released, the unnotified one withheld (Art. 15). */
function oneReleasedOneWithheld(response: QueryResponse): boolean {
  const pbccrc = response.results.find((r) => r.agencyId === "pbccrc");
  return (
    pbccrc?.status === AgencyStatus.OK &&
    pbccrc.records.map((r) => r.recordId).join() === "pbccrc-L-0003" &&
    pbccrc.withheld.some((w) => w.reason === "NEGATIVE_NOT_NOTIFIED" && w.records === 1)
  );
}

/**
 * A withheld negative record: the bank holds two overdue loans of the borrower
 * and notified the borrower of one. A person's negative information is provided
 * only after the person was told (Credit Investigation Regulation Art. 15), so
 * the other is withheld, counted as NEGATIVE_NOT_NOTIFIED.
 */
export const NEGATIVE_INFORMATION_STEP: DemoStep = {
  title: "negative information (Art. 15, 16)",
  run: async (f) => [
    await demoQuery(
      f,
      "securities regulator checks a person's overdue loans: the one the bank never notified is withheld (Art. 15)",
      "csrc",
      { subject: borrower, categories: ["loan_overdue"], purpose: Purpose.SUPERVISION, consent: supervisionConsent(f) },
      "OK",
      oneReleasedOneWithheld,
    ),
  ],
};
