// Spark SQL's higher-order array functions under their DuckDB names. DuckDB macros cannot take a lambda as an
// argument, so these two are rewritten token by token instead (the other array functions the notebooks use are
// macros in spark-compat.ts):
//   transform(array, x -> ...)              → list_transform(array, x -> ...)
//   aggregate(array, start, (acc, x) -> ...) → list_reduce(array, (acc, x) -> ..., start)
// DuckDB also requires the accumulator to have the element type; the notebooks write their folds so (04).
import type { Token } from './lexer.ts';

const isSpace = (t: Token | undefined) => t !== undefined && (t.kind === 'space' || t.kind === 'comment');
const isWord = (t: Token | undefined, word: string) => t?.kind === 'word' && t.text.toLowerCase() === word;
const isSymbol = (t: Token | undefined, s: string) => t?.kind === 'symbol' && t.text === s;

/** The index of the `(` that follows tokens[i] (spaces between allowed), or -1. */
function openParenAfter(tokens: readonly Token[], i: number): number {
  let k = i + 1;
  while (isSpace(tokens[k])) k++;
  return isSymbol(tokens[k], '(') ? k : -1;
}

/** The top-level arguments of the call whose `(` is at `open`, and the index of its `)`. */
function callArguments(tokens: readonly Token[], open: number): { args: Token[][]; close: number } {
  const args: Token[][] = [[]];
  let depth = 0;
  for (let k = open + 1; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (isSymbol(t, '(') || isSymbol(t, '[')) depth++;
    if ((isSymbol(t, ')') || isSymbol(t, ']')) && depth-- === 0) return { args, close: k };
    if (depth === 0 && isSymbol(t, ',')) args.push([]);
    else args[args.length - 1]!.push(t);
  }
  throw new Error(
    `unbalanced parentheses after ${tokens[open - 1]?.text ?? 'a call'} on line ${tokens[open]!.line}`,
  );
}

const symbol = (text: string, line: number): Token => ({ kind: 'symbol', text, line });
const word = (text: string, line: number): Token => ({ kind: 'word', text, line });

/** The tokens with Spark's transform() and aggregate() written as DuckDB's list_transform() and list_reduce(). */
export function rewriteLambdaFunctions(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const open = t.kind === 'word' ? openParenAfter(tokens, i) : -1;
    if (open >= 0 && isWord(t, 'transform')) {
      out.push(word('list_transform', t.line));
    } else if (open >= 0 && isWord(t, 'aggregate')) {
      const { args, close } = callArguments(tokens, open);
      if (args.length !== 3)
        throw new Error(
          `aggregate() on line ${t.line}: expected 3 arguments (array, start, merge), found ${args.length}`,
        );
      const [array, start, merge] = args.map((a) => rewriteLambdaFunctions(a)) as [Token[], Token[], Token[]];
      out.push(word('list_reduce', t.line), symbol('(', t.line), ...array, symbol(',', t.line));
      out.push(...merge, symbol(',', t.line), ...start, symbol(')', t.line));
      i = close;
    } else {
      out.push(t);
    }
  }
  return out;
}
