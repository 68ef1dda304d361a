// How a step talks to the runner: workflow commands on its output (`::add-mask::`, `::error::`, `::warning::`,
// `::notice::`, `::debug::`, `::group::`, `::save-state::`, `::add-path::`), and the file commands (GITHUB_OUTPUT,
// GITHUB_ENV, GITHUB_STATE as `name=value` or `name<<DELIMITER` blocks, GITHUB_PATH one folder a line).
// The masker replaces every secret and every masked value with *** in whatever the rehearsal prints.

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

/** `::name key=value,key=value::message`, with GitHub's escapes (%25 %0D %0A, and %3A %2C in properties). */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const match = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/s.exec(line.trimStart());
  if (!match) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq > 0) properties[pair.slice(0, eq).trim()] = unescape(pair.slice(eq + 1), true);
  }
  return { command: match[1]!.toLowerCase(), properties, message: unescape(match[3]!, false) };
}

function unescape(text: string, property: boolean): string {
  let result = text.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
  if (property) result = result.replace(/%3A/gi, ':').replace(/%2C/gi, ',');
  return result.replace(/%25/g, '%');
}

/** The entries of a GITHUB_OUTPUT, GITHUB_ENV or GITHUB_STATE file; a malformed entry is an error naming it. */
export function parseFileCommand(text: string, file: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq < 0 || eq > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, i + 1);
      if (end < 0) throw new Error(`${file}: no closing delimiter '${delimiter}' for ${name}`);
      result[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1);
    else
      throw new Error(
        `${file}: invalid line ${JSON.stringify(line)} (expected name=value or name<<DELIMITER)`,
      );
  }
  return result;
}

export class Masker {
  private readonly values = new Set<string>();

  add(secret: string | undefined): void {
    if (!secret) return;
    for (const part of [secret, ...secret.split(/\r?\n/)]) if (part.trim().length > 0) this.values.add(part);
  }

  mask(text: string): string {
    let result = text;
    // Longest first, so that a secret containing another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length))
      result = result.split(value).join('***');
    return result;
  }
}
