/**
 * Field names that name data never to be collected or passed on, whatever
 * level a provider gives them: Credit Investigation Regulation Art. 14.1
 * (religious belief, genes, fingerprints, blood type, disease and medical
 * history, and other personal information laws forbid collecting; biometrics
 * are fingerprints' kin and PIPL Art. 28 sensitive data).
 *
 * A provider chooses its field names, so a name is normalised before it is
 * matched: Unicode compatibility forms (full-width letters), accents, invisible
 * format characters and Cyrillic/Greek look-alikes are folded; camelCase, digits
 * and every separator split words. The allow-list (only fields the catalogue
 * lists pass, src/core/stages/release.ts) already drops whatever this misses;
 * this matcher decides that a dropped field is a prohibited-data incident.
 */

/** Stems matched anywhere in the name with its separators removed: long enough not to occur by chance in credit vocabulary. */
const COMPACT_STEMS = [
  // religion
  "religio", "zongjiao",
  // genes
  "genome", "genomic", "genetic", "genotype", "phenotype", "chromosom", "deoxyribonucleic", "dnasequence", "dnaprofile", "dnasample", "allele",
  // fingerprints and other biometrics
  "fingerprint", "thumbprint", "palmprint", "voiceprint", "faceprint", "biometric", "facialrecogn", "facerecogn", "facialfeature", "facetemplate", "irisscan", "iristemplate", "retina",
  // blood type
  "bloodtype", "bloodgroup", "rhfactor", "xuexing",
  // disease and medical history
  "disease", "illness", "sickness", "diagnos", "symptom", "medicalhistor", "medicalrecord", "medicalcondition", "medicalreport", "medicalexam", "healthstatus",
  "healthcondition", "healthrecord", "healthhistor", "healthdata", "pathology", "comorbid", "bingshi", "jibing", "bingli",
] as const;

/** Whole words (after splitting): too short or too common to match inside other words ("gene" in "general"). */
const WORDS = new Set(["gene", "genes", "dna", "rna", "hiv", "blood", "iris", "faith", "creed", "jiyin", "zhiwen", "medical", "medication", "diagnosis", "patient", "health"]);

/** Neighbours that make a word an ordinary credit term: "good faith", "financial health", "medical insurance" contributions. */
const BENIGN_BEFORE: Readonly<Record<string, readonly string[]>> = { faith: ["good", "bad"], health: ["financial", "credit", "business", "fiscal"] };
const BENIGN_AFTER: Readonly<Record<string, readonly string[]>> = { medical: ["insurance", "insurer", "institution", "device", "devices"] };

/** Chinese names, matched anywhere (宗教信仰 religious belief, 基因 genes, 指纹 fingerprint, 血型 blood type, 病史/疾病 medical history/disease …). */
const CHINESE = ["宗教", "信仰", "基因", "遗传", "染色体", "指纹", "掌纹", "声纹", "虹膜", "视网膜", "人脸", "面部特征", "生物特征", "生物识别", "血型", "病史", "疾病", "病历", "病症", "诊断", "既往症", "健康状况", "医疗记录", "体检"];

/** Latin look-alikes from Cyrillic and Greek that a provider could use to dodge a plain-ASCII match. */
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x", і: "i", ї: "i", ј: "j", ѕ: "s", ԁ: "d", ɡ: "g", ո: "n",
  А: "A", В: "B", Е: "E", К: "K", М: "M", Н: "H", О: "O", Р: "P", С: "C", Т: "T", Х: "X", І: "I", Ј: "J", Ѕ: "S",
  α: "a", ε: "e", ι: "i", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", Α: "A", Β: "B", Ε: "E", Η: "H", Ι: "I", Κ: "K", Μ: "M", Ν: "N", Ο: "O", Ρ: "P", Τ: "T", Χ: "X", Υ: "Y", Ζ: "Z",
};
const CONFUSABLE_PATTERN = new RegExp(`[${Object.keys(CONFUSABLES).join("")}]`, "g");

/** The words of a field name, lower-case: "HIVStatus" → ["hiv", "status"], "blood-Type" → ["blood", "type"]. */
export function fieldNameWords(name: string): string[] {
  // Fast path for the usual lower_snake_case name: nothing to fold or split but the underscores.
  if (/^[a-z0-9_]*$/.test(name) && !/[a-z]\d|\d[a-z]/.test(name)) return name.split("_").filter((w) => w !== "");
  const folded = name
    .normalize("NFKD")
    // Combining marks (accents) and invisible format characters (zero-width space, soft hyphen, BOM).
    .replace(/[\p{M}\p{Cf}]/gu, "")
    .replace(CONFUSABLE_PATTERN, (c) => CONFUSABLES[c]!);
  return folded
    .replace(/([\p{Ll}\d])(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1 $2")
    .replace(/(\p{L})(\d)/gu, "$1 $2")
    .replace(/(\d)(\p{L})/gu, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\d]+/u)
    .filter((w) => w !== "");
}

/**
 * Names already judged: a provider repeats the same few names in every record,
 * and release asks for each field. Bounded (cleared when full) so that a
 * provider inventing names cannot grow it.
 */
const judged = new Map<string, boolean>();
const JUDGED_MAX = 4096;

export function isProhibitedFieldName(name: string): boolean {
  const known = judged.get(name);
  if (known !== undefined) return known;
  const prohibited = judge(name);
  if (judged.size >= JUDGED_MAX) judged.clear();
  judged.set(name, prohibited);
  return prohibited;
}

function judge(name: string): boolean {
  const words = fieldNameWords(name);
  const compact = words.join("");
  if (CHINESE.some((term) => compact.includes(term))) return true;
  if (COMPACT_STEMS.some((stem) => compact.includes(stem))) return true;
  // A short word spelt out letter by letter ("D.N.A", "g_e_n_e") is the whole name.
  if (WORDS.has(compact)) return true;
  return words.some((word, i) => {
    if (!WORDS.has(word)) return false;
    if (BENIGN_BEFORE[word]?.includes(words[i - 1] ?? "")) return false;
    if (BENIGN_AFTER[word]?.includes(words[i + 1] ?? "")) return false;
    return true;
  });
}
