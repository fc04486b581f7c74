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
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Names that point at metadata services whatever they resolve to. */
const BLOCKED_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog']);

/** An IPv4 address hidden in an IPv6 one (`::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`). */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
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
