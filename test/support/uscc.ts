const ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

/** A valid synthetic USCC for the number n (DOMAIN.md: GB 32100-2015 and GB 11714 check characters). */
export function usccWithCheck(n: number): string {
  const org8 = String(n).padStart(8, "0");
  const orgSum = [...org8].reduce((s, ch, i) => s + Number(ch) * ORG_WEIGHTS[i]!, 0);
  const orgCheckValue = 11 - (orgSum % 11);
  const orgCheck = orgCheckValue === 10 ? "X" : orgCheckValue === 11 ? "0" : String(orgCheckValue);
  const first17 = `91310000${org8}${orgCheck}`;
  const sum = [...first17].reduce((s, ch, i) => s + ALPHABET.indexOf(ch) * WEIGHTS[i]!, 0);
  const c = 31 - (sum % 31);
  return first17 + ALPHABET[c === 31 ? 0 : c]!;
}
