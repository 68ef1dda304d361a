// Every secret the process learns (from ${env:NAME} in the config, or an action input) is registered here,
// so that anything printed — logs, errors, summaries, manifests — can be redacted in one place.
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; they are not plausible secrets anyway.
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** Removes the password from a URL-style connection string before it is shown. */
export function redactUrl(url: string): string {
  return redact(url.replace(/(\/\/[^/:@]*:)[^@]*@/, '$1***@'));
}
