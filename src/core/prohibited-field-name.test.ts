import { describe, expect, it } from "vitest";
import { fieldNameWords, isProhibitedFieldName } from "./prohibited-field-name.js";

/**
 * Credit Investigation Regulation Art. 14.1: religion, genes, fingerprints (and
 * other biometrics), blood type, disease and medical history are never passed,
 * under whatever name a provider gives them. Each row: a hostile name and what it hides.
 */
const HOSTILE: ReadonlyArray<[name: string, concept: string]> = [
  // names the exact snake_case pattern used to miss
  ["bloodType", "blood type, camelCase"],
  ["religiousBelief", "religion, camelCase"],
  ["genome", "genes, a synonym"],
  ["hiv_status", "disease"],
  // case and separators
  ["BLOOD_TYPE", "blood type, upper case"],
  ["blood-type", "blood type, hyphen"],
  ["blood.type", "blood type, dot"],
  ["blood type", "blood type, space"],
  ["Blood__Group", "blood type, synonym, double separator"],
  ["bloodtype", "blood type, no separator"],
  ["BloodGroupABO", "blood type, PascalCase with acronym"],
  ["rh_factor", "blood type, Rh"],
  ["Religion", "religion"],
  ["religious_affiliation", "religion"],
  ["faith", "religion, synonym"],
  ["creed", "religion, synonym"],
  ["GENETIC_MARKERS", "genes"],
  ["genomicData", "genes"],
  ["gene_panel", "genes"],
  ["DNASequence", "genes, acronym then word"],
  ["dna2", "genes, with a digit"],
  ["D.N.A", "genes, spelt out"],
  ["g_e_n_e", "genes, spelt out"],
  ["chromosomeReport", "genes"],
  ["genotype", "genes"],
  ["fingerPrint", "fingerprint, camelCase split inside the word"],
  ["finger_print_hash", "fingerprint, split"],
  ["FingerprintTemplate", "fingerprint"],
  ["thumbprint", "fingerprint"],
  ["biometricTemplate", "biometrics"],
  ["face_recognition_vector", "biometrics"],
  ["iris_scan", "biometrics"],
  ["voiceprint", "biometrics"],
  ["retinalImage", "biometrics"],
  ["medicalHistory", "medical history, camelCase"],
  ["medical-record-no", "medical history"],
  ["MEDICAL_CONDITIONS", "medical history"],
  ["diagnosisCode", "disease"],
  ["chronic_diseases", "disease"],
  ["illnessHistory", "disease"],
  ["healthStatus", "health"],
  ["past_symptoms", "disease"],
  ["patient_id", "medical history"],
  ["medication", "medical history"],
  // Unicode tricks: full-width, accents, zero-width characters, Cyrillic look-alikes
  ["ｂｌｏｏｄ＿ｔｙｐｅ", "blood type, full-width"],
  ["génome", "genes, accented"],
  ["blood\u200btype", "blood type, zero-width space"],
  ["gеnome", "genes, Cyrillic е"],
  ["rеligion", "religion, Cyrillic е"],
  // Chinese names and pinyin
  ["宗教信仰", "religion"],
  ["宗教", "religion"],
  ["基因检测结果", "genes"],
  ["遗传病", "genes, disease"],
  ["指纹", "fingerprint"],
  ["人脸特征值", "biometrics"],
  ["血型", "blood type"],
  ["病史", "medical history"],
  ["既往病史", "medical history"],
  ["疾病", "disease"],
  ["客户_疾病_代码", "disease, inside a name"],
  ["zongjiao_xinyang", "religion, pinyin"],
  ["jiyin", "genes, pinyin"],
  ["xuexing", "blood type, pinyin"],
  ["bingshi", "medical history, pinyin"],
];

/** Credit vocabulary that must not be mistaken for prohibited data. */
const BENIGN = [
  "lender",
  "overdue_days",
  "general_manager",
  "generation_date",
  "registration",
  "legal_representative",
  "good_faith_rating",
  "financial_health_score",
  "medical_insurance_base",
  "decision_no",
  "collateral_valuation_cny",
  "annual_income_cny",
  "employer",
  "policy_type",
  "sum_insured_cny",
  "case_no",
  "court",
  "blueprint_no",
  "dnb_rating",
  "religation", // not a word, but no stem of Art. 14.1 in it
];

describe("prohibited field names (Art. 14.1)", () => {
  it(`ok/the hostile table has at least 40 names`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE)("fail/Art. 14.1: %s is prohibited (%s)", (name) => {
    expect(isProhibitedFieldName(name)).toBe(true);
  });

  it.each(BENIGN)("ok/%s is ordinary credit vocabulary", (name) => {
    expect(isProhibitedFieldName(name)).toBe(false);
  });

  it("ok/normalisation splits camelCase, acronyms, digits and separators, and folds width, accents and look-alikes", () => {
    expect(fieldNameWords("HIVStatus")).toEqual(["hiv", "status"]);
    expect(fieldNameWords("DNASequence2x")).toEqual(["dna", "sequence", "2", "x"]);
    expect(fieldNameWords("blood--Type.ABO")).toEqual(["blood", "type", "abo"]);
    expect(fieldNameWords("ＢｌｏｏｄＴｙｐｅ")).toEqual(["blood", "type"]);
    expect(fieldNameWords("gén\u00adome")).toEqual(["genome"]);
    expect(fieldNameWords("宗教_信仰")).toEqual(["宗教", "信仰"]);
  });
});
