import type { Sector } from "../core/catalogue.js";
import type { AgencyRole } from "../core/registry.js";

export interface DemoAgency {
  readonly id: string;
  readonly name: string;
  readonly sector: Sector;
  readonly uscc: string;
  readonly categories: readonly string[];
  readonly clearance: number;
  /** Registry roles (src/core/registry.ts); "judicial" lets the agency state the JUDICIAL purpose. */
  readonly roles?: readonly AgencyRole[];
}

/**
 * The nine members of the demo federation, one of each member type: the
 * banking, securities, insurance and forex systems (Planning Outline §3(4)), a
 * regional platform (§3(2)), a tax authority, market supervision, a court and a
 * credit bureau (§3(3)); README, "Member types". USCCs are synthetic but valid
 * (GB 32100-2015 check characters).
 */
export const DEMO_AGENCIES: readonly DemoAgency[] = [
  {
    id: "pbccrc",
    name: "Credit Reference Center (banking)",
    sector: "BANKING",
    uscc: "121000007178005741",
    categories: ["loan_record", "loan_overdue", "guarantee_record", "deposit", "administrative_penalty", "administrative_license"],
    clearance: 4,
  },
  {
    id: "csrc",
    name: "Securities Regulatory Commission",
    sector: "SECURITIES",
    uscc: "11100000000019713D",
    categories: ["securities_violation", "securities_holding", "administrative_penalty", "administrative_license"],
    clearance: 4,
  },
  {
    id: "nfra",
    name: "Financial Regulatory Administration (insurance)",
    sector: "INSURANCE",
    uscc: "11100000MB18933302",
    categories: ["insurance_claim", "insurance_policy", "administrative_penalty", "administrative_license"],
    clearance: 4,
  },
  {
    id: "safe",
    name: "State Administration of Foreign Exchange",
    sector: "FOREX",
    uscc: "11100000000013127D",
    categories: ["forex_registration", "forex_violation", "administrative_penalty", "administrative_license"],
    clearance: 3,
  },
  {
    id: "sh-credit",
    name: "Shanghai Public Credit Information Service Platform",
    sector: "REGIONAL",
    uscc: "12310000MB2F097318",
    categories: [
      "business_registration",
      "administrative_license",
      "administrative_penalty",
      "dishonest_debtor",
      "red_list",
      "tax_arrears",
      "income",
      "real_estate",
      "tax_amount",
    ],
    clearance: 3,
    // The regional platform carries the courts' requests (judicial assistance, policies/tests/demo-agencies.yaml).
    roles: ["judicial"],
  },
  {
    id: "sh-tax",
    name: "Shanghai Municipal Tax Service",
    sector: "TAX",
    uscc: "11310000MB0T0X103W",
    categories: ["tax_arrears", "tax_credit_rating", "tax_violation", "tax_amount", "red_list", "administrative_penalty"],
    clearance: 3,
  },
  {
    id: "sh-amr",
    name: "Shanghai Administration for Market Regulation",
    sector: "MARKET_SUPERVISION",
    uscc: "11310000MB0A0M501A",
    categories: ["business_registration", "administrative_license", "administrative_penalty", "abnormal_operation"],
    clearance: 3,
  },
  {
    id: "sh-court",
    name: "Shanghai No. 1 Intermediate People's Court",
    sector: "COURT",
    uscc: "11310000MB0C0R70XE",
    categories: ["dishonest_debtor", "enforcement_case"],
    // No "judicial" role in the registry: a court holds it by its sector (src/core/sector-rights.ts).
    clearance: 3,
  },
  {
    id: "credit-bureau",
    name: "Example Credit Reporting Co., Ltd. (licensed credit bureau)",
    sector: "CREDIT_BUREAU",
    uscc: "91310115MA1K4Q2021",
    // It receives and owns nothing in the catalogue; its reference agency serves an empty dataset.
    categories: [],
    // Its sector's bound (level 3) is also the most its registry entry may claim (gateway config check).
    clearance: 3,
  },
];
