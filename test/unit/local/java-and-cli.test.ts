// Proves the small parsers of the local tooling: Java version strings and token lifetimes.
import { describe, expect, it } from 'vitest';
import { parseTtl } from '../../../lib/cli/commands/token';
import { parseJavaVersion } from '../../../lib/local/java';

describe('parseJavaVersion', () => {
  it('reads modern and legacy version strings', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).toEqual({
      version: '17.0.15',
      major: 17,
    });
    expect(parseJavaVersion('java version "1.8.0_392"')).toEqual({
      version: '1.8.0_392',
      major: 8,
    });
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).toEqual({
      version: '21',
      major: 21,
    });
    expect(parseJavaVersion('command not found')).toBeNull();
  });
});

describe('parseTtl', () => {
  it('accepts s/m/h/d and refuses the rest', () => {
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('7d')).toBe(604_800);
    expect(() => parseTtl('1y')).toThrow(/--ttl/);
    expect(() => parseTtl('90d')).toThrow(/between/);
  });
});
