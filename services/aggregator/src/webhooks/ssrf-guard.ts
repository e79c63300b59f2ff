import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { WebhookError } from './webhook-error.js';

/**
 * Address ranges a webhook may not reach unless allowed in config: loopback, RFC 1918 private,
 * carrier-grade NAT, link-local (incl. the 169.254.169.254 cloud metadata service), unique-local
 * IPv6 (incl. fd00:ec2::254), multicast, reserved and unspecified. IPv4-mapped, IPv4-compatible
 * and NAT64 IPv6 addresses are checked as the IPv4 address they carry.
 */
const FORBIDDEN_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const FORBIDDEN_V6: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local, incl. fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const forbidden = new BlockList();
for (const [net, prefix] of FORBIDDEN_V4) forbidden.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of FORBIDDEN_V6) forbidden.addSubnet(net, prefix, 'ipv6');

/** Expands an IPv6 address into its 8 16-bit groups; undefined when it is not IPv6. */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const parts = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...new Array<string>(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
}

/** The IPv4 address carried by an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address. */
export function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (g === undefined) return undefined;
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !nat64) return undefined;
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** Parses "10.0.0.0/8,::1/128,127.0.0.1" into an allow-list. Throws naming the bad entry. */
export function parseAllowList(entries: readonly string[]): BlockList {
  const allow = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [net = '', prefixText] = entry.split('/');
    const family = isIP(net);
    if (family === 0) {
      throw new WebhookError(
        'INVALID_ENDPOINT',
        `allow-list entry ${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)`,
      );
    }
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new WebhookError(
        'INVALID_ENDPOINT',
        `allow-list entry ${JSON.stringify(entry)} has an invalid prefix length`,
      );
    }
    allow.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return allow;
}

/** Why an address is refused, or undefined when it may be connected to. */
export function refusalReason(address: string, allow?: BlockList): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v4 = family === 6 ? embeddedIPv4(address) : address;
  const plain = family === 6 ? address.split('%')[0]! : address;
  if (allow !== undefined) {
    if (allow.check(plain, family === 4 ? 'ipv4' : 'ipv6')) return undefined;
    if (v4 !== undefined && family === 6 && allow.check(v4, 'ipv4')) return undefined;
  }
  if (v4 !== undefined && forbidden.check(v4, 'ipv4'))
    return `${address} is a loopback, private, link-local or reserved address`;
  if (family === 6 && v4 === undefined && forbidden.check(plain, 'ipv6')) {
    return `${address} is a loopback, private, link-local or reserved address`;
  }
  return undefined;
}

export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** A resolver returning every address of a name (dns.lookup with `all: true` by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true } satisfies LookupAllOptions, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

/**
 * A `lookup` for http.Agent / net.connect that resolves the name itself and hands the socket only
 * addresses that pass `refusalReason`: the address checked is the address connected to, so DNS
 * rebinding between check and connect cannot happen. When every address is refused the
 * connection fails with code ESSRF.
 */
export function guardedLookup(resolver: Resolver, allow?: BlockList): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const ok = addresses.filter(
          (a) => (wanted === 0 || a.family === wanted) && refusalReason(a.address, allow) === undefined,
        );
        if (ok.length === 0) {
          const reason = addresses.map((a) => refusalReason(a.address, allow)).find((r) => r !== undefined);
          const err: NodeJS.ErrnoException = new Error(
            `refused to connect to ${hostname}: ${reason ?? 'no usable address'}`,
          );
          err.code = 'ESSRF';
          callback(err, '', 0);
          return;
        }
        if ((options as LookupAllOptions).all === true) callback(null, ok);
        else callback(null, ok[0]!.address, ok[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
