/** ICAO Doc 9303 part 3, 4.9: weights 7, 3, 1 repeating; `<` is 0, digits their value, A–Z 10–35. */
export function checkDigit(chars: string): string {
  let sum = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i);
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : 0;
    sum += v * [7, 3, 1][i % 3]!;
  }
  return String(sum % 10);
}
