/** A well-mixed 32-bit hash of up to three integers (murmur3 finaliser), as a number in [0, 1). */
export const unitHash = (a: number, b: number, c: number): number => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (b + 0x7f4a7c15 + (h << 6) + (h >>> 2)), 0xc2b2ae35)
  h = Math.imul(h ^ (c + 0x165667b1 + (h << 6) + (h >>> 2)), 0x27d4eb2f)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) / 4294967296
}
