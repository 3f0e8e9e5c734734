import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** The folder of the page's static files (HTML, CSS, ES modules), shipped with the service. */
export const DASHBOARD_ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * The page may load only its own files and call only its own origin: no inline script or
 * style (what an injected string could become), no framing, no plugins, no referrer. It
 * sets no cookie: the API key travels in the Authorization header of its API calls.
 */
const HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Robots-Tag': 'noindex',
} as const;

/**
 * `GET /dashboard`: the web dashboard, static files only. Everything it shows comes from
 * `GET /v1/dashboard` with the tenant's key, which the page takes from the URL fragment
 * (`/dashboard#key=…`, never sent to a server, so never in an access log) or a form, and
 * keeps in sessionStorage. Mount on `/dashboard`.
 */
export function dashboardPage(): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set(HEADERS);
    next();
  });
  // Revalidated on every load, so a new release's files are never mixed with old ones.
  const options = { dotfiles: 'ignore' as const, headers: { 'Cache-Control': 'no-cache' } };
  router.get('/', (_req, res, next) => {
    res.sendFile('index.html', { ...options, root: DASHBOARD_ASSETS }, (error) => {
      if (error) next(error);
    });
  });
  router.use(
    express.static(DASHBOARD_ASSETS, {
      index: false,
      dotfiles: 'ignore',
      redirect: false,
      setHeaders: (res) => res.set('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}
