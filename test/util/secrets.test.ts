// Secrets are redacted in every form they travel in, and so are stack traces and their causes.
import { describe, expect, it } from 'vitest';
import { errorDetails } from '../../src/util/log.ts';
import { redact, registerSecret } from '../../src/util/secrets.ts';

describe('redaction', () => {
  const secret = 'dose-s3cret/with+odd=chars&more';
  registerSecret(secret);

  it('redacts the secret, URL- and form-encoded, and JSON-escaped', () => {
    for (const form of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString()])
      expect(redact(`echo: ${form} end`)).not.toMatch(/s3cret|s3cret|with%2Bodd|with\+odd/);
    registerSecret('quote"and\\backslash-secret');
    expect(redact(JSON.stringify({ echoed: 'quote"and\\backslash-secret' }))).toBe('{"echoed":"***"}');
  });

  it('redacts its base64 wherever it sits in encoded data: an HTTP Basic header, a token', () => {
    for (const prefix of ['', 'a', 'ab', 'client-id:', 'app-id-1:'])
      for (const suffix of ['', 'x', 'xy']) {
        const encoded = Buffer.from(`${prefix}${secret}${suffix}`).toString('base64');
        const shown = redact(`Authorization: Basic ${encoded}`);
        expect(shown).toContain('***');
        // What is left around the mark is a few characters, never enough to decode the secret.
        expect(shown.replace('Authorization: Basic ', '').replace('***', '').length).toBeLessThan(
          Buffer.from(prefix).toString('base64').length + 8,
        );
      }
    expect(redact(Buffer.from(secret).toString('base64url'))).not.toContain(
      Buffer.from(secret).toString('base64url').slice(4, 20),
    );
    expect(redact('ordinary words, numbers 12345678 and dose-')).toBe(
      'ordinary words, numbers 12345678 and dose-',
    );
  });

  it('redacts a stack trace and every cause in it (LAKEHOUSE_DEBUG)', () => {
    const cause = new Error(`token request sent ${encodeURIComponent(secret)}`);
    const error = new Error(`wrapped: ${secret}`, { cause: new Error('middle', { cause }) });
    const details = errorDetails(error);
    expect(details).toMatch(/^Error: wrapped: \*\*\*\n\s+at /);
    expect(details).toContain('caused by: Error: middle');
    expect(details).toContain('caused by: Error: token request sent ***');
    expect(details).not.toContain('s3cret');
    expect(errorDetails({ code: 'E', detail: secret })).toBe("{ code: 'E', detail: '***' }");
  });
});
