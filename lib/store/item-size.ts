/**
 * DynamoDB item size, computed the way the service bills and limits it: attribute name bytes
 * plus value bytes (strings UTF-8, numbers ~1 byte per 2 significant digits + 1, 1 byte for
 * booleans and nulls, 3 bytes + 1 per element for lists and maps). Slightly conservative.
 */
export function itemSizeBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name, 'utf8') + valueSizeBytes(value);
  }
  return size;
}

function valueSizeBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') {
    const digits = value.toString().replace(/^-/, '').replace(/\./, '').replace(/^0+/, '').length;
    return Math.ceil(digits / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let size = 0;
    for (const member of value) size += valueSizeBytes(member);
    return size;
  }
  if (Array.isArray(value)) {
    let size = 3;
    for (const element of value) size += 1 + valueSizeBytes(element);
    return size;
  }
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, inner] of Object.entries(value)) {
      if (inner === undefined) continue;
      size += 1 + Buffer.byteLength(name, 'utf8') + valueSizeBytes(inner);
    }
    return size;
  }
  return 0;
}
