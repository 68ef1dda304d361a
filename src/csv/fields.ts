// A record's fields, RFC 4180: fields are separated by the delimiter, a field that starts with a quote runs to
// its closing quote, and a doubled quote inside it is one quote.

/** The record's fields, or a reason string for malformed quoting. */
export function splitFields(text: string, delimiter: string): string[] | string {
  if (!text.includes('"')) return text.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return `a quoted field starting at character ${i + 1} is never closed`;
        value += text.slice(j, q);
        if (text[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      if (j < text.length && !text.startsWith(delimiter, j))
        return `unexpected text after the closing quote at character ${j + 1}`;
      fields.push(value);
      if (j >= text.length) return fields;
      i = j + delimiter.length;
    } else {
      const end = text.indexOf(delimiter, i);
      const value = end === -1 ? text.slice(i) : text.slice(i, end);
      if (value.includes('"'))
        return `a quote inside an unquoted field at character ${i + value.indexOf('"') + 1}`;
      fields.push(value);
      if (end === -1) return fields;
      i = end + delimiter.length;
    }
  }
}

/**
 * The fields of text[start, end), which holds no quote: cut at each delimiter straight from the chunk's text,
 * without a string for the record first (about twice as fast as slice and split on a million records).
 */
export function splitPlainFields(text: string, start: number, end: number, delimiter: string): string[] {
  const fields: string[] = [];
  for (let from = start; ;) {
    const at = text.indexOf(delimiter, from);
    if (at === -1 || at >= end) {
      fields.push(text.slice(from, end));
      return fields;
    }
    fields.push(text.slice(from, at));
    from = at + delimiter.length;
  }
}
