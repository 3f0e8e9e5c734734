/**
 * The pages of the one-click unsubscribe endpoint. Static text only: nothing from the
 * request is echoed, so no input can inject markup. The confirmation form posts back to
 * its own URL (`action=""`), the same request a mail client makes for RFC 8058.
 */

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}' +
  'button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.25rem;background:#222;color:#fff;cursor:pointer}';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** GET: asks; changes nothing (link scanners and previews fetch with GET). */
export const CONFIRM_PAGE = page(
  'Unsubscribe',
  '<h1>Unsubscribe?</h1><p>You will no longer receive marketing messages from this sender.</p>' +
    '<form method="post" action=""><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>',
);

/** POST, whether it changed something or the address was already unsubscribed. */
export const DONE_PAGE = page(
  'Unsubscribed',
  '<h1>You are unsubscribed</h1><p>You will no longer receive marketing messages from this sender.</p>',
);

/** A token we did not sign, or one whose message no longer exists. */
export const INVALID_PAGE = page(
  'Link not valid',
  '<h1>This link is not valid</h1><p>It may have been mistyped or cut. Use the unsubscribe link of a recent message.</p>',
);
