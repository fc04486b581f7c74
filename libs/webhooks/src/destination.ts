import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may be sent. A tenant-supplied URL must not reach roam's own network: the
 * cluster, the database, the cloud metadata service. Hostnames are resolved and every address
 * checked, at registration AND at each delivery (the DNS answer may change in between: DNS
 * rebinding); the delivery connects to the address that was checked, never resolving twice.
 */

/** Addresses never reachable by default: private, loopback, link-local, CGNAT, multicast, reserved. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including the 169.254.169.254 metadata service
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local, including AWS' fd00:ec2::254 metadata address
  ['fe80::', 10],
  ['fec0::', 10], // site-local: deprecated, still routed inside some networks
  ['64:ff9b:1::', 48], // local-use NAT64: translates into the operator's own network
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Names that point at metadata services whatever they resolve to. */
const BLOCKED_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog']);

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tails included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let host: string;
  try {
    // The URL parser accepts every IPv6 spelling and prints it in one form: hex groups, `::`.
    host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head, tail] = host.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : undefined;
}

const dotted = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 one stands for, when it embeds one: IPv4-compatible `::a.b.c.d`,
 * mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
 * `2002:aabb:ccdd::` and Teredo `2001:0::` (its client address, bit-inverted). Such an address
 * reaches whatever that IPv4 reaches, so it is judged as that IPv4.
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return dotted(g[6]!, g[7]!);
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return dotted(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return dotted(g[6]!, g[7]!);
  if (g[0] === 0x2002) return dotted(g[1]!, g[2]!);
  if (g[0] === 0x2001 && g[1] === 0) return dotted(g[6]! ^ 0xffff, g[7]! ^ 0xffff);
  return undefined;
}

export interface DestinationPolicy {
  /** Exact addresses/subnets allowed even though private (tests: 127.0.0.0/8). */
  allowedSubnets: BlockList;
  /** Hostnames allowed whatever they resolve to (lower case). */
  allowedHosts: Set<string>;
}

/**
 * Parses `WEBHOOK_ALLOWED_HOSTS`: comma-separated CIDRs (`127.0.0.0/8`, `::1/128`), single
 * addresses, or hostnames. Empty = only public addresses.
 */
export function parseDestinationPolicy(allowList: string | undefined): DestinationPolicy {
  const allowedSubnets = new BlockList();
  const allowedHosts = new Set<string>();
  for (const raw of (allowList ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [address, prefix] = entry.split('/', 2) as [string, string | undefined];
    const family = isIP(address);
    if (family === 0) {
      if (prefix !== undefined) throw new Error(`"${raw.trim()}" is neither a CIDR nor a hostname`);
      allowedHosts.add(entry);
      continue;
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128))
      throw new Error(`"${raw.trim()}" has an invalid prefix length`);
    allowedSubnets.addSubnet(address, bits, type);
  }
  return { allowedSubnets, allowedHosts };
}

/** Why an address may not be used, or undefined when it may. */
export function addressRefusal(address: string, policy: DestinationPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  const [checked, type] = v4 ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
  if (!BLOCKED.check(checked, type)) return undefined;
  if (policy.allowedSubnets.check(checked, type)) return undefined;
  return `${address} is a private, loopback, link-local or reserved address`;
}

export class DestinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationError';
  }
}

/** Syntax only: http(s), a host, no credentials. Throws `DestinationError`. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationError('url is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DestinationError('url must use http or https');
  if (!url.hostname) throw new DestinationError('url has no host');
  if (url.username || url.password) throw new DestinationError('url must not carry credentials');
  return url;
}

/** URL hostname without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * Resolves a hostname and checks every address it resolves to; returns them. A name listed in
 * the allow-list is not checked. Throws `DestinationError`.
 */
export async function resolveDestination(
  host: string,
  policy: DestinationPolicy,
  resolve: (host: string) => Promise<{ address: string; family: number }[]> = (h) =>
    dnsLookup(h, { all: true, verbatim: true }),
): Promise<{ address: string; family: number }[]> {
  const name = host
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  const allowedByName = policy.allowedHosts.has(name);
  if (!allowedByName && BLOCKED_NAMES.has(name))
    throw new DestinationError(`${name} is a metadata service`);
  const family = isIP(name);
  let addresses: { address: string; family: number }[];
  if (family !== 0) {
    addresses = [{ address: name, family }];
  } else {
    try {
      addresses = await resolve(name);
    } catch (error) {
      throw new DestinationError(`cannot resolve ${name}: ${(error as Error).message}`);
    }
    if (addresses.length === 0) throw new DestinationError(`${name} resolves to no address`);
  }
  if (!allowedByName) {
    for (const { address } of addresses) {
      const refusal = addressRefusal(address, policy);
      if (refusal) throw new DestinationError(`${name} resolves to ${refusal}`);
    }
  }
  return addresses;
}

/** Registration-time check of a webhook URL: syntax, then every resolved address. */
export async function checkWebhookUrl(raw: string, policy: DestinationPolicy): Promise<URL> {
  const url = parseWebhookUrl(raw);
  await resolveDestination(bareHost(url), policy);
  return url;
}

/**
 * A `lookup` for `http.request` that refuses blocked addresses: the socket connects to the
 * address that passed the check, so a rebinding DNS answer cannot slip in between.
 */
export function guardedLookup(policy: DestinationPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolveDestination(hostname, policy).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
        if (usable.length === 0) {
          callback(new DestinationError(`${hostname} has no IPv${wanted} address`), '', 0);
          return;
        }
        if (options.all) {
          (callback as unknown as (e: null, a: typeof usable) => void)(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}
