// Fault injection for chaos runs: `POST /sim/v1/faults/drop-watches` ends every open watch and
// log stream, as an apiserver restart or a load balancer's idle cut would. Clients must
// re-list and re-watch; nothing in the store changes.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StreamOwner {
  endStreams(): void;
}

/** True when it answered (the path is one of its routes). */
export function serveFaults(
  owner: StreamOwner,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): boolean {
  if (path !== '/sim/v1/faults/drop-watches') return false;
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ kind: 'Status', status: 'Failure', code: 405, reason: 'MethodNotAllowed' }),
    );
    return true;
  }
  owner.endStreams();
  res.writeHead(204).end();
  return true;
}
