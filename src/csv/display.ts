// How a quarantined record is shown: its text, with what a SQL text column cannot hold or a reader cannot see
// written visibly as \xHH (a NUL, each byte that is not UTF-8). The bytes themselves are kept beside it.
import { isUtf8 } from 'node:buffer';

export function displayText(bytes: Buffer): string {
  if (isUtf8(bytes) && !bytes.includes(0)) return bytes.toString('utf8');
  let text = '';
  let from = 0;
  for (let i = 0; i < bytes.length;) {
    const length = bytes[i] === 0 ? 0 : utf8Length(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', from, i) + `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
    from = ++i;
  }
  return text + bytes.toString('utf8', from);
}

/** 1-based position of the first byte that breaks UTF-8 (lead byte or truncated sequence); for bad lines only. */
export function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const length = utf8Length(bytes, i);
    if (length === 0) return i + 1;
    i += length;
  }
  return bytes.length;
}

/** The length of the valid UTF-8 character at `i`, or 0 when the byte there does not start one. */
function utf8Length(bytes: Buffer, i: number): number {
  const lead = bytes[i]!;
  const length =
    lead < 0x80
      ? 1
      : lead >= 0xc2 && lead < 0xe0
        ? 2
        : lead >= 0xe0 && lead < 0xf0
          ? 3
          : lead >= 0xf0 && lead < 0xf5
            ? 4
            : 0;
  if (length <= 1) return length;
  for (let k = 1; k < length; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return 0;
  // Overlong and surrogate forms pass the checks above; isUtf8 knows them.
  return isUtf8(bytes.subarray(i, i + length)) ? length : 0;
}
