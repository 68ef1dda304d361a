// Identifiers come from the config, never from data; even so they are checked here, where SQL is written, so
// that no dialect can be handed a name that would need more than quoting to be safe.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name))
    throw new Error(
      `${what} ${JSON.stringify(name)}: expected letters, digits and _ (not starting with a digit, at most 63 characters)`,
    );
  return name;
}
