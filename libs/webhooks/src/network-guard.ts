import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

/** A webhook target that resolves to a private, loopback, link-local or otherwise internal address. */
export class ForbiddenTargetError extends Error {
  readonly code = 'FORBIDDEN_TARGET';
}

// Where a webhook must never reach unless an operator allows it: the
// server-side request forgery targets (cloud metadata, the cluster, the host),
// and every address that is not globally routable unicast.
const INTERNAL_RANGES: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  // Documentation, and the 6to4 relay anycast.
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  // Inside IPv6's global unicast 2000::/3, the ranges that carry or reach other addresses: Teredo and the
  // other IETF protocol assignments (2001::/23, whose few global services a webhook does not need), the
  // documentation range, and 6to4 (an IPv4 address inside, 127.0.0.1 as well as any).
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['3fff::', 20, 'ipv6'],
];

/**
 * Outside it, an IPv6 address is not globally routable unicast: loopback,
 * unspecified, IPv4-compatible (::/96) and IPv4-translated
 * (::ffff:0:0:0/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), discard,
 * unique-local, site-local (fec0::/10), link-local, multicast.
 */
const IPV6_GLOBAL_UNICAST: [string, number] = ['2000::', 3];

const internal = new BlockList();
for (const [network, prefix, family] of INTERNAL_RANGES) internal.addSubnet(network, prefix, family);
const globalUnicast = new BlockList();
globalUnicast.addSubnet(IPV6_GLOBAL_UNICAST[0], IPV6_GLOBAL_UNICAST[1], 'ipv6');

/** Parses `WEBHOOK_ALLOWED_NETWORKS`: comma-separated CIDRs (or single addresses). */
export function parseAllowedNetworks(list: string): BlockList {
  const allowed = new BlockList();
  for (const entry of list.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [address, prefixText] = entry.split('/');
    const family = isIP(address ?? '');
    if (!address || family === 0) throw new Error(`"${entry}" is not a CIDR`);
    const prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`"${entry}" has a bad prefix length`);
    allowed.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return allowed;
}

/** Whether a webhook may connect to this IP address. */
export function isAllowedAddress(address: string, allowed: BlockList): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isAllowedAddress(mapped[1]!, allowed);
  if (allowed.check(address, family)) return true;
  if (family === 'ipv6' && !globalUnicast.check(address, 'ipv6')) return false;
  return !internal.check(address, family);
}

/**
 * A DNS lookup for the HTTP client that refuses internal addresses: the
 * address checked is the address connected to, so a name cannot be switched
 * to an internal address between a check and the connection.
 */
export function guardedLookup(allowed: BlockList) {
  return (
    hostname: string,
    options: object,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const usable = (addresses as LookupAddress[]).filter((entry) => isAllowedAddress(entry.address, allowed));
      if (usable.length === 0) {
        return callback(Object.assign(new ForbiddenTargetError(`${hostname} resolves only to internal addresses`), { errno: 0 }), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/** Checks a URL when it is saved: every address its host resolves to must be allowed. */
export async function assertPublicTarget(url: URL, allowed: BlockList): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve, reject) =>
        dnsLookup(host, { all: true }, (error, entries) => (error ? reject(error) : resolve(entries.map((entry) => entry.address)))),
      );
  const refused = addresses.filter((address) => !isAllowedAddress(address, allowed));
  if (refused.length > 0) {
    throw new ForbiddenTargetError(`${url.hostname} resolves to an internal address (${refused.join(', ')}); allow it with WEBHOOK_ALLOWED_NETWORKS`);
  }
}

/** The `WEBHOOK_ALLOWED_NETWORKS` variable, validated into a BlockList. */
export const webhookNetworksVar = z
  .string()
  .default('')
  .transform((list, ctx) => {
    try {
      return parseAllowedNetworks(list);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
