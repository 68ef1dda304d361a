// The MERGE statement after its target (`USING <source> [AS] s ON <condition> WHEN …`): split at its top-level
// keywords, and Spark's `INSERT *` / `UPDATE SET *` written as DuckDB's `INSERT BY NAME` / `UPDATE BY NAME`.

export interface MergeTail {
  source: string;
  condition: string;
  /** WHEN NOT MATCHED BY SOURCE changes target rows that match nothing: every file is affected. */
  matchesBySource: boolean;
  /** Only WHEN NOT MATCHED clauses: no target row changes, so several source rows per target row are harmless. */
  insertsOnly: boolean;
  /** The one WHEN MATCHED clause is an unconditional DELETE: every matched row goes, whichever source row matched. */
  onlyUnconditionalDelete: boolean;
  /** The tail for DuckDB: Spark's `INSERT *` / `UPDATE SET *` (by column name) as `INSERT BY NAME` / `UPDATE BY NAME`. */
  duckdbTail: string;
}

/** Top-level words of `sql` (outside quotes, comments and parentheses), upper-cased, with their offsets. */
function topLevelWords(sql: string): { word: string; index: number; end: number }[] {
  const words: { word: string; index: number; end: number }[] = [];
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && c === '*') words.push({ word: '*', index: i, end: i + 1 });
    else if (depth === 0 && /[A-Za-z_]/.test(c) && (i === 0 || !/[A-Za-z0-9_]/.test(sql[i - 1]!))) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))!;
      words.push({ word: m[0].toUpperCase(), index: i, end: i + m[0].length });
      i += m[0].length - 1;
    }
  }
  return words;
}

/** Splits `USING <source> ON <condition> WHEN …` at its top-level keywords. */
export function parseMergeTail(tail: string): MergeTail {
  const words = topLevelWords(tail);
  const using = words.find((w) => w.word === 'USING');
  const on = words.find((w) => w.word === 'ON' && using && w.index > using.index);
  const when = words.find((w) => w.word === 'WHEN' && on && w.index > on.index);
  if (!using || !on || !when || using.index !== 0) {
    throw new Error(
      `mergeDelta: expected the statement tail to read "USING <source> [AS] <alias> ON <condition> WHEN …", found "${tail.slice(0, 120)}"`,
    );
  }
  // Replace from the end so that earlier offsets stay valid.
  let duckdbTail = tail;
  for (let i = words.length - 1; i >= 1; i--) {
    const [a, b, c] = [words[i - 1]!, words[i]!, words[i + 1]];
    if (a.word === 'INSERT' && b.word === '*') {
      duckdbTail = `${duckdbTail.slice(0, a.index)}INSERT BY NAME${duckdbTail.slice(b.end)}`;
    } else if (a.word === 'UPDATE' && b.word === 'SET' && c?.word === '*') {
      duckdbTail = `${duckdbTail.slice(0, a.index)}UPDATE BY NAME${duckdbTail.slice(c.end)}`;
    }
  }
  const upper = words.map((w) => w.word).join(' ');
  const clauses = upper
    .slice(upper.indexOf('WHEN '))
    .split(/(?=\bWHEN )/)
    .map((c) => c.trim());
  const matched = clauses.filter((c) => c.startsWith('WHEN MATCHED '));
  return {
    source: tail.slice(using.end, on.index).trim(),
    condition: tail.slice(on.end, when.index).trim(),
    matchesBySource: /\bNOT MATCHED BY SOURCE\b/.test(upper),
    insertsOnly: clauses.every((c) => /^WHEN NOT MATCHED (BY TARGET )?(AND|THEN)\b/.test(c)),
    onlyUnconditionalDelete: matched.length === 1 && matched[0] === 'WHEN MATCHED THEN DELETE',
    duckdbTail,
  };
}
