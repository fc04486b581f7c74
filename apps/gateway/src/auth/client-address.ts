import { BlockList, isIP } from 'node:net';

import type { Request } from 'express';

/**
 * The address a request came from, for limits kept per client. The socket's peer is the
 * client unless it is one of the operator's trusted proxies; then `X-Forwarded-For` is read
 * from the right, skipping trusted hops, and the first untrusted address is the client. A
 * client cannot pick its own address by sending the header: untrusted peers' headers are
 * ignored, and so is anything left of the first untrusted hop.
 */
export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly hasTrusted: boolean;

  /** `trustedProxies`: comma-separated addresses and CIDRs, checked by the config schema. */
  constructor(trustedProxies: string | undefined) {
    const entries = (trustedProxies ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
    this.hasTrusted = entries.length > 0;
  }

  of(request: Pick<Request, 'headers' | 'socket'>): string {
    const peer = normalize(request.socket?.remoteAddress ?? 'unknown');
    if (!this.hasTrusted || !this.isTrusted(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => normalize(hop.trim()))
      .filter((hop) => isIP(hop) !== 0);
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      if (!this.isTrusted(hops[i]!)) return hops[i]!;
    }
    return hops[0] ?? peer;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
