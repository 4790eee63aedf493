import { isIPv4, isIPv6 } from 'node:net';
import { InvalidOptionsError } from '@redkit/core';

/** Options of {@link normalizeIp}. */
export interface NormalizeIpOptions {
  /**
   * IPv6 addresses are grouped by this prefix length (0–128): one subscriber
   * usually gets a whole /64, so limiting single addresses would let them
   * rotate through 2^64 of them. 128 keeps each address apart.
   * @default 64
   */
  readonly ipv6Subnet?: number;
}

/** Default IPv6 prefix length used to group client addresses. */
export const defaultIpv6Subnet = 64;

/**
 * Checks an IPv6 prefix length, so a bad one fails where it is configured.
 *
 * @example
 * ```ts
 * checkIpv6Subnet(56, 'byIp()') // ok; checkIpv6Subnet(129) throws InvalidOptionsError
 * ```
 */
export function checkIpv6Subnet(subnet: unknown, context?: string): number {
  if (typeof subnet !== 'number' || !Number.isInteger(subnet) || subnet < 0 || subnet > 128) {
    throw new InvalidOptionsError([{ path: 'ipv6Subnet', message: 'must be an integer from 0 to 128' }], {
      ...(context ? { context } : {}),
    });
  }
  return subnet;
}

/**
 * Turns a client address into the subject it is limited under: IPv4 as is,
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, which dual-stack servers report for
 * IPv4 clients) as plain IPv4, and IPv6 as its network in RFC 5952 form with
 * the prefix length (`2001:db8:1:2::/64`), or as the address alone with a
 * /128 subnet. Throws {@link InvalidOptionsError} for anything else.
 *
 * @example
 * ```ts
 * normalizeIp('::ffff:203.0.113.9')         // '203.0.113.9'
 * normalizeIp('2001:DB8:1:2:aaaa::1')       // '2001:db8:1:2::/64'
 * normalizeIp('2001:db8:1:2:aaaa::1', { ipv6Subnet: 48 }) // '2001:db8:1::/48'
 * ```
 */
export function normalizeIp(address: string, options?: NormalizeIpOptions): string {
  const subnet = options?.ipv6Subnet === undefined ? defaultIpv6Subnet : checkIpv6Subnet(options.ipv6Subnet);
  if (typeof address === 'string' && isIPv4(address)) return address;
  // A zone id (`fe80::1%eth0`) names the local interface, not the client.
  const zoneless = typeof address === 'string' ? address.replace(/%.*$/, '') : '';
  if (!isIPv6(zoneless)) {
    throw new InvalidOptionsError([{ path: 'address', message: `not an IP address: ${JSON.stringify(address)}` }]);
  }
  const groups = parseIpv6(zoneless);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const high = groups[6] as number;
    const low = groups[7] as number;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  if (subnet === 128) return formatIpv6(groups);
  return `${formatIpv6(maskIpv6(groups, subnet))}/${subnet}`;
}

/** The eight 16-bit groups of a valid IPv6 address (checked by the caller). */
function parseIpv6(address: string): number[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

function maskIpv6(groups: readonly number[], prefix: number): number[] {
  return groups.map((group, index) => {
    const bits = Math.min(16, Math.max(0, prefix - index * 16));
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
