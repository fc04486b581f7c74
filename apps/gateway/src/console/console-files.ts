import { readdirSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NextFunction, Request, Response } from 'express';

/** Where the console's bundle is, from this file in the gateway's src/ or dist/. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

export const CONSOLE_BASE = '/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * The console's page runs only the bundle's own files: no inline script or style, no other
 * origin, no framing. The API it calls is the same origin; the key travels in a header.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface ConsoleFile {
  path: string;
  type: string;
  /** Vite names every asset by its content hash: such a file never changes under its name. */
  immutable: boolean;
}

/**
 * The bundle's files by URL path, listed once. Requests are answered only from this list, so
 * no part of a URL ever becomes a filesystem path.
 */
export function listConsoleFiles(dir = CONSOLE_DIST): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    const type = TYPES[extname(entry.name)];
    if (!type) continue;
    files.set(url, { path, type, immutable: url.startsWith('/assets/') });
  }
  return files;
}

function notFound(response: Response, detail: string): void {
  response
    .status(404)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: 'https://roam.dev/problems/not-found',
        title: 'Not found',
        status: 404,
        detail,
      }),
    );
}

/**
 * Serves the console under /console: hashed assets cached for a year, everything else (the
 * page, and every client-side route, which gets the page) revalidated on each load so a new
 * deployment is picked up at once. Only GET and HEAD; the API's routes and auth are untouched.
 */
export function consoleHandler(files: Map<string, ConsoleFile>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    // The full path: a middleware mounted on a path sees `request.path` without it.
    const pathname = new URL(request.originalUrl, 'http://console.invalid').pathname;
    if (pathname !== CONSOLE_BASE && !pathname.startsWith(`${CONSOLE_BASE}/`)) return next();
    if (pathname === CONSOLE_BASE) {
      response.redirect(308, `${CONSOLE_BASE}/`);
      return;
    }
    response.setHeader('Content-Security-Policy', CONSOLE_CSP);
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader('Referrer-Policy', 'no-referrer');
    const index = files.get('/index.html');
    if (!index) {
      notFound(response, 'the console is not built: run `node scripts/build.mjs`');
      return;
    }
    const rest = pathname.slice(CONSOLE_BASE.length);
    let file = files.get(rest);
    // A page of the app (no file extension): the app itself, which routes on the client.
    if (!file && !extname(rest)) file = index;
    if (!file) {
      notFound(response, `no console file ${rest}`);
      return;
    }
    response.setHeader(
      'Cache-Control',
      file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    response.setHeader('Content-Type', file.type);
    response.sendFile(file.path, { dotfiles: 'allow' }, (error) => {
      if (error && !response.headersSent) next(error);
    });
  };
}
