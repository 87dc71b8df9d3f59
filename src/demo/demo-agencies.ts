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
 * The five members of the demo federation (Planning Outline §3(4): banking,
 * securities, insurance and forex systems, plus a regional platform). USCCs
 * are synthetic but valid (GB 32100-2015 check characters).
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
];
