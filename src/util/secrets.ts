// Every secret the process learns (from ${env:NAME} in the config, or an action input) is registered here,
// so that anything printed — logs, errors, stack traces, summaries, manifests — can be redacted in one place.
//
// A secret also travels in other forms: URL- or form-encoded in a request body or query string, JSON-escaped in an
// answer, base64 in an HTTP Basic header (`base64(client_id:client_secret)`) or a token. A server that echoes the
// request in its error must not print any of them, so each form is registered with the secret.
const secrets = new Set<string>();
/** The forms longest first, so that a form containing another is redacted whole. */
let ordered: string[] = [];

/** Shorter values would redact ordinary words; they are not plausible secrets anyway. */
const MIN_LENGTH = 4;
/** A base64 fragment shorter than this could match ordinary text. */
const MIN_BASE64_LENGTH = 8;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_LENGTH || secrets.has(value)) return;
  const forms = [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
  ].filter((f) => f.length >= MIN_LENGTH);
  for (const form of [...forms, ...base64Forms(value).filter((f) => f.length >= MIN_BASE64_LENGTH)])
    secrets.add(form);
  ordered = [...secrets].sort((a, b) => b.length - a.length);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/** Removes the password from a URL-style connection string before it is shown. */
export function redactUrl(url: string): string {
  return redact(url.replace(/(\/\/[^/:@]*:)[^@]*@/, '$1***@'));
}

/**
 * The base64 text that stands for the secret wherever it sits in longer data: base64 writes 3 bytes as 4
 * characters, so the secret encodes one of three ways depending on its offset. For each, the characters that depend
 * only on the secret's bytes (not on what comes before or after) are kept: they appear in any encoding of data that
 * contains the secret at that offset, e.g. the Basic header of `client_id:client_secret`. Also the whole encoding
 * (with padding), and base64url (JWTs, URL-safe tokens).
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const cores = [0, 1, 2].map((shift) => {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const total = shift + bytes.length;
    // The first group mixes `shift` bytes that are not the secret's; the last partial group the bytes after it.
    const start = [0, 2, 3][shift]!;
    const end = Math.floor(total / 3) * 4 + Math.floor(((total % 3) * 8) / 6);
    return encoded.slice(start, end);
  });
  const forms = [bytes.toString('base64'), ...cores];
  return [...forms, ...forms.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))];
}
