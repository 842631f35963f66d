/** Reference rounding for tests, written independently of lib/domain/money: pick the nearer of
 * floor(|n/d|) and floor(|n/d|)+1 by comparing distances, then apply the tie rule. */
export function referenceRound(n: bigint, d: bigint, tie: 'even' | 'away'): bigint {
  const exactSign = n < 0n !== d < 0n && n !== 0n ? -1n : 1n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const low = an / ad;
  const high = low + 1n;
  const distLow = an - low * ad;
  const distHigh = high * ad - an;
  let chosen: bigint;
  if (distLow < distHigh) chosen = low;
  else if (distHigh < distLow) chosen = high;
  else if (tie === 'away') chosen = high;
  else chosen = low % 2n === 0n ? low : high;
  return exactSign * chosen;
}
