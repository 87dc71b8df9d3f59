import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreditRecordSchema, Polarity, SubjectType, type CreditRecord } from "../gen/credex/v1/types_pb.js";
import { generateResidentId } from "../core/identifiers/resident-id.js";
import { generateUscc } from "../core/identifiers/uscc.js";
import { createSeededRandom } from "../core/identifiers/random-source.js";

/** The demo's named subjects (identifiers from DOMAIN.md's valid examples). */
export const DEMO_SUBJECTS = {
  /** A trading company with records in every sector, some negative, one old, one disputed. */
  tradingCompany: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" },
  /** A manufacturer with a clean, mostly positive history. */
  manufacturer: { type: SubjectType.LEGAL_PERSON, id: "91350200MA2YJ1XR9G" },
  /** A logistics firm on the dishonest-debtor list. */
  logisticsFirm: { type: SubjectType.LEGAL_PERSON, id: "91230184MA1BUFLT44" },
  /** A natural person applying for a mortgage. */
  borrower: { type: SubjectType.NATURAL_PERSON, id: "11010519491231002X" },
} as const;

type Field = [name: string, value: string, level: number];

interface RecordSpec {
  id: string;
  owner: string;
  subject: { type: SubjectType; id: string };
  category: string;
  polarity: Polarity;
  level: number;
  occurred: string;
  ended?: string;
  /** The act continues, last confirmed then (Art. 16: a negative record needs this or `ended`). */
  ongoingConfirmed?: string;
  /** When the provider notified the subject (Art. 15: a natural person's negative record needs it). */
  notified?: string;
  fields: Field[];
  disputed?: boolean;
}

function record(spec: RecordSpec): CreditRecord {
  return create(CreditRecordSchema, {
    recordId: spec.id,
    ownerAgency: spec.owner,
    subject: spec.subject,
    category: spec.category,
    polarity: spec.polarity,
    level: spec.level,
    occurredAt: timestampFromDate(new Date(spec.occurred)),
    endedAt: spec.ended ? timestampFromDate(new Date(spec.ended)) : undefined,
    ongoing: spec.ongoingConfirmed !== undefined,
    lastConfirmedAt: spec.ongoingConfirmed ? timestampFromDate(new Date(spec.ongoingConfirmed)) : undefined,
    notifiedAt: spec.notified ? timestampFromDate(new Date(spec.notified)) : undefined,
    fields: spec.fields.map(([name, value, level]) => ({ name, value, level })),
    disputed: spec.disputed ?? false,
  });
}

const { NEGATIVE, POSITIVE, NEUTRAL } = { NEGATIVE: Polarity.NEGATIVE, POSITIVE: Polarity.POSITIVE, NEUTRAL: Polarity.NEUTRAL };

/** Records of each demo agency, by agency id. `now` fixes the age-dependent records (Art. 16). */
export function demoDatasets(now = new Date()): Record<string, CreditRecord[]> {
  const yearsAgo = (years: number) => new Date(now.getTime() - years * 365.25 * 86_400_000).toISOString();
  const co = DEMO_SUBJECTS.tradingCompany;
  const mf = DEMO_SUBJECTS.manufacturer;
  const lf = DEMO_SUBJECTS.logisticsFirm;
  const p = DEMO_SUBJECTS.borrower;
  return {
    pbccrc: [
      record({ id: "pbccrc-L-0001", owner: "pbccrc", subject: co, category: "loan_overdue", polarity: NEGATIVE, level: 3, occurred: yearsAgo(2), ended: yearsAgo(1),
        fields: [["lender", "Bank of Example, Pudong branch", 3], ["overdue_days", "97", 3], ["overdue_amount_cny", "1250000.00", 3], ["collateral_valuation_cny", "3400000.00", 4]] }),
      record({ id: "pbccrc-L-0002", owner: "pbccrc", subject: co, category: "loan_record", polarity: POSITIVE, level: 3, occurred: yearsAgo(3),
        fields: [["lender", "Example Rural Commercial Bank", 3], ["principal_cny", "5000000.00", 3], ["status", "repaying", 3]] }),
      record({ id: "pbccrc-L-0003", owner: "pbccrc", subject: p, category: "loan_overdue", polarity: NEGATIVE, level: 3, occurred: yearsAgo(1), ongoingConfirmed: yearsAgo(0.02), notified: yearsAgo(0.9),
        fields: [["lender", "Example Consumer Finance", 3], ["overdue_days", "35", 3]] }),
      // A person's negative record the provider never notified the person of: withheld (Art. 15), the demo shows it.
      record({ id: "pbccrc-L-0006", owner: "pbccrc", subject: p, category: "loan_overdue", polarity: NEGATIVE, level: 3, occurred: yearsAgo(0.3), ongoingConfirmed: yearsAgo(0.02),
        fields: [["lender", "Example Card Centre", 3], ["overdue_days", "64", 3]] }),
      record({ id: "pbccrc-P-0004", owner: "pbccrc", subject: co, category: "administrative_penalty", polarity: NEGATIVE, level: 1, occurred: yearsAgo(1), ended: yearsAgo(1),
        fields: [["decision_no", "银罚决字〔2025〕12号", 1], ["violation", "Late filing of credit data", 1], ["fine_cny", "200000", 1]] }),
      record({ id: "pbccrc-D-0005", owner: "pbccrc", subject: co, category: "deposit", polarity: NEUTRAL, level: 4, occurred: yearsAgo(1),
        fields: [["balance_cny", "880000.00", 4]] }),
    ],
    csrc: [
      record({ id: "csrc-V-0001", owner: "csrc", subject: co, category: "securities_violation", polarity: NEGATIVE, level: 3, occurred: yearsAgo(2), ended: yearsAgo(2),
        fields: [["violation", "Undisclosed related-party transactions", 3], ["measure", "Warning letter", 3]], disputed: true }),
      record({ id: "csrc-P-0002", owner: "csrc", subject: co, category: "administrative_penalty", polarity: NEGATIVE, level: 1, occurred: yearsAgo(2), ended: yearsAgo(2),
        fields: [["decision_no", "〔2024〕沪证监罚字88号", 1], ["fine_cny", "600000", 1]] }),
      record({ id: "csrc-H-0003", owner: "csrc", subject: p, category: "securities_holding", polarity: NEUTRAL, level: 4, occurred: yearsAgo(0.5),
        fields: [["holding", "600000.SH", 4], ["shares", "12000", 4]] }),
    ],
    nfra: [
      record({ id: "nfra-C-0001", owner: "nfra", subject: co, category: "insurance_claim", polarity: NEGATIVE, level: 3, occurred: yearsAgo(1), ended: yearsAgo(1),
        fields: [["insurer", "Example Property & Casualty", 3], ["finding", "Inflated cargo-loss claim", 3]] }),
      // A provider sending prohibited data (Art. 14.1): the gateway drops the field and raises it for incident handling.
      record({ id: "nfra-I-0002", owner: "nfra", subject: p, category: "insurance_policy", polarity: NEUTRAL, level: 4, occurred: yearsAgo(3),
        fields: [["policy_type", "Critical illness", 4], ["sum_insured_cny", "500000", 4], ["medical_history", "(withheld from demo)", 4]] }),
    ],
    safe: [
      record({ id: "safe-V-0001", owner: "safe", subject: co, category: "forex_violation", polarity: NEGATIVE, level: 3, occurred: yearsAgo(3), ended: yearsAgo(3),
        fields: [["violation", "Split purchases of foreign exchange", 3], ["fine_cny", "150000", 3], ["account_balance_usd", "41000.00", 4]] }),
      // Ended more than 5 years ago: no longer provided (Art. 16).
      record({ id: "safe-V-0002", owner: "safe", subject: co, category: "forex_violation", polarity: NEGATIVE, level: 3, occurred: yearsAgo(7), ended: yearsAgo(6),
        fields: [["violation", "Unregistered external debt", 3]] }),
      record({ id: "safe-R-0003", owner: "safe", subject: co, category: "forex_registration", polarity: NEUTRAL, level: 2, occurred: yearsAgo(5),
        fields: [["registration", "Trade-in-goods list A", 2]] }),
    ],
    "sh-credit": [
      record({ id: "sh-B-0001", owner: "sh-credit", subject: co, category: "business_registration", polarity: NEUTRAL, level: 2, occurred: yearsAgo(9),
        fields: [["name", "Shanghai Example Trading Co., Ltd.", 2], ["legal_representative", "Zhang Wei", 2], ["status", "in operation", 2]] }),
      record({ id: "sh-P-0002", owner: "sh-credit", subject: co, category: "administrative_penalty", polarity: NEGATIVE, level: 1, occurred: yearsAgo(1), ended: yearsAgo(1),
        fields: [["decision_no", "沪市监罚〔2025〕301号", 1], ["violation", "False advertising", 1], ["fine_cny", "50000", 1]] }),
      record({ id: "sh-B-0003", owner: "sh-credit", subject: mf, category: "business_registration", polarity: NEUTRAL, level: 2, occurred: yearsAgo(6),
        fields: [["name", "Xiamen Example Manufacturing Co., Ltd.", 2], ["status", "in operation", 2]] }),
      record({ id: "sh-R-0004", owner: "sh-credit", subject: mf, category: "red_list", polarity: POSITIVE, level: 1, occurred: yearsAgo(1),
        fields: [["list", "A-grade taxpayer 2025", 1]] }),
      record({ id: "sh-D-0005", owner: "sh-credit", subject: lf, category: "dishonest_debtor", polarity: NEGATIVE, level: 1, occurred: yearsAgo(1), ongoingConfirmed: yearsAgo(0.01),
        fields: [["court", "Harbin Intermediate People's Court", 1], ["case_no", "(2025)黑01执123号", 1]] }),
      record({ id: "sh-I-0006", owner: "sh-credit", subject: p, category: "income", polarity: NEUTRAL, level: 4, occurred: yearsAgo(1),
        fields: [["annual_income_cny", "420000", 4], ["employer", "Example Software Ltd.", 3]] }),
      record({ id: "sh-E-0007", owner: "sh-credit", subject: p, category: "real_estate", polarity: NEUTRAL, level: 4, occurred: yearsAgo(4),
        fields: [["property", "Pudong, 89 m²", 4], ["mortgaged", "no", 4]] }),
      record({ id: "sh-T-0008", owner: "sh-credit", subject: p, category: "tax_amount", polarity: NEUTRAL, level: 4, occurred: yearsAgo(1),
        fields: [["individual_income_tax_cny", "61000", 4]] }),
    ],
    "sh-tax": [
      record({ id: "tax-A-0001", owner: "sh-tax", subject: co, category: "tax_arrears", polarity: NEGATIVE, level: 2, occurred: yearsAgo(0.5), ongoingConfirmed: yearsAgo(0.02),
        fields: [["tax_authority", "Shanghai Tax Service, State Taxation Administration", 2], ["amount_owed_cny", "320000", 2], ["due_date", "2026-06-15", 2]] }),
      // A level-4 field (a tax amount, Art. 14.2) inside a level-3 record: removed for every grant below 4.
      record({ id: "tax-V-0002", owner: "sh-tax", subject: co, category: "tax_violation", polarity: NEGATIVE, level: 3, occurred: yearsAgo(1), ended: yearsAgo(0.8),
        fields: [["violation", "Invoices issued without underlying trade", 3], ["status", "inspection closed, penalty decided", 3], ["evaded_tax_cny", "410000", 4]] }),
      record({ id: "tax-R-0003", owner: "sh-tax", subject: mf, category: "tax_credit_rating", polarity: POSITIVE, level: 2, occurred: yearsAgo(1),
        fields: [["year", "2025", 2], ["grade", "A", 2]] }),
      record({ id: "tax-R-0004", owner: "sh-tax", subject: mf, category: "red_list", polarity: POSITIVE, level: 1, occurred: yearsAgo(1),
        fields: [["list", "A-grade taxpayer 2025", 1]] }),
      record({ id: "tax-T-0005", owner: "sh-tax", subject: p, category: "tax_amount", polarity: NEUTRAL, level: 4, occurred: yearsAgo(1),
        fields: [["individual_income_tax_cny", "61000", 4]] }),
    ],
    "sh-amr": [
      record({ id: "amr-B-0001", owner: "sh-amr", subject: co, category: "business_registration", polarity: NEUTRAL, level: 2, occurred: yearsAgo(9),
        fields: [["name", "Shanghai Example Trading Co., Ltd.", 2], ["registered_capital_cny", "10000000", 2], ["status", "in operation", 2]] }),
      record({ id: "amr-P-0002", owner: "sh-amr", subject: co, category: "administrative_penalty", polarity: NEGATIVE, level: 1, occurred: yearsAgo(0.5), ended: yearsAgo(0.5),
        fields: [["decision_no", "沪市监罚〔2026〕415号", 1], ["violation", "Selling goods below the labelled quality", 1], ["fine_cny", "80000", 1]] }),
      record({ id: "amr-L-0003", owner: "sh-amr", subject: mf, category: "administrative_license", polarity: POSITIVE, level: 1, occurred: yearsAgo(2),
        fields: [["license_no", "沪XK16-204-01234", 1], ["scope", "Industrial product production licence", 1], ["valid_until", "2029-06-30", 1]] }),
      record({ id: "amr-X-0004", owner: "sh-amr", subject: lf, category: "abnormal_operation", polarity: NEGATIVE, level: 1, occurred: yearsAgo(1), ongoingConfirmed: yearsAgo(0.05),
        fields: [["reason", "Annual report for 2024 not filed", 1]] }),
    ],
    "sh-court": [
      record({ id: "court-D-0001", owner: "sh-court", subject: lf, category: "dishonest_debtor", polarity: NEGATIVE, level: 1, occurred: yearsAgo(1), ongoingConfirmed: yearsAgo(0.05),
        fields: [["court", "Shanghai No. 1 Intermediate People's Court", 1], ["case_no", "(2025)沪01执456号", 1], ["obligation", "Pay 2,300,000 CNY to a supplier", 1]] }),
      record({ id: "court-E-0002", owner: "sh-court", subject: lf, category: "enforcement_case", polarity: NEGATIVE, level: 2, occurred: yearsAgo(1), ongoingConfirmed: yearsAgo(0.05),
        fields: [["case_no", "(2025)沪01执456号", 2], ["amount_to_enforce_cny", "2300000", 2], ["status", "in enforcement", 2]] }),
      record({ id: "court-E-0003", owner: "sh-court", subject: p, category: "enforcement_case", polarity: NEGATIVE, level: 2, occurred: yearsAgo(0.5), ongoingConfirmed: yearsAgo(0.05), notified: yearsAgo(0.5),
        fields: [["case_no", "(2026)沪01执78号", 2], ["amount_to_enforce_cny", "46000", 2], ["status", "in enforcement", 2]] }),
    ],
    "credit-bureau": [],
  };
}

/**
 * Bulk synthetic records for benchmarks and load tests: `subjects` legal
 * persons with valid USCCs, each with `perSubject` records in `category`,
 * padded to about `payloadBytes` per record.
 */
export function syntheticRecords(owner: string, category: string, options: { subjects: number; perSubject: number; payloadBytes: number; seed?: number }): {
  subjects: string[];
  records: CreditRecord[];
} {
  const random = createSeededRandom(options.seed ?? 1);
  const subjects = Array.from({ length: options.subjects }, () => generateUscc(random));
  const padding = "x".repeat(Math.max(0, options.payloadBytes - 120));
  const recently = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const records = subjects.flatMap((id, s) =>
    Array.from({ length: options.perSubject }, (_, i) =>
      record({
        id: `${owner}-${s}-${i}`,
        owner,
        subject: { type: SubjectType.LEGAL_PERSON, id },
        category,
        polarity: NEUTRAL,
        level: 1,
        occurred: recently,
        // A negative category's record needs its end, within 5 years (Art. 16); "violation" is listed for the benchmarked category.
        ended: recently,
        fields: [["violation", padding, 1]],
      }),
    ),
  );
  return { subjects, records };
}

/** A valid synthetic resident id, for tests that need a person other than the demo borrower. */
export function syntheticPersonId(seed: number): string {
  return generateResidentId(createSeededRandom(seed));
}
