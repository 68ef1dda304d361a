// A streaming reader for the `multipart/related` body of an `uploadType=multipart` upload: the first part is
// the object resource as JSON, the second the object's bytes. The bytes go to `writeMedia` as they arrive, so
// a large body never sits in memory; only a delimiter's length of look-behind is kept.
const MAX_METADATA_BYTES = 2 * 1024 * 1024;

export class MultipartError extends Error {
  override name = 'MultipartError';
}

export interface MultipartUpload {
  metadata: Record<string, unknown>;
  /** The media part's Content-Type header, when it has one. */
  mediaContentType?: string;
  mediaBytes: number;
}

export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary)
    throw new MultipartError(
      `expected Content-Type multipart/related with a boundary, found ${JSON.stringify(contentType ?? '')}`,
    );
  return boundary;
}

export async function readMultipartRelated(
  body: AsyncIterable<Buffer>,
  boundary: string,
  writeMedia: (chunk: Buffer) => Promise<void>,
): Promise<MultipartUpload> {
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buffer: Buffer = Buffer.alloc(0);
  // Cast, so that TypeScript does not narrow `state` to its initial value: `step` changes it.
  let state = 'preamble' as 'preamble' | 'headers' | 'content' | 'after-delimiter' | 'done';
  let part = 0;
  const headers: Record<string, string>[] = [];
  const metadataChunks: Buffer[] = [];
  let metadataBytes = 0;
  let mediaBytes = 0;

  const takeContent = async (chunk: Buffer) => {
    if (chunk.length === 0) return;
    if (part === 0) {
      metadataBytes += chunk.length;
      if (metadataBytes > MAX_METADATA_BYTES)
        throw new MultipartError(`the metadata part is larger than ${MAX_METADATA_BYTES} bytes`);
      metadataChunks.push(chunk);
    } else {
      mediaBytes += chunk.length;
      await writeMedia(chunk);
    }
  };

  const step = async (final: boolean): Promise<boolean> => {
    switch (state) {
      case 'preamble': {
        const at = buffer.indexOf(opening);
        if (at < 0) return false;
        buffer = buffer.subarray(at + opening.length);
        state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        if (buffer.length < 2) return false;
        if (buffer.subarray(0, 2).toString() === '--') {
          state = 'done';
          return false;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return false;
        buffer = buffer.subarray(eol + 2);
        state = 'headers';
        return true;
      }
      case 'headers': {
        // A part may have no headers at all, in which case the blank line comes first.
        const end = buffer.subarray(0, 2).toString() === '\r\n' ? 0 : buffer.indexOf('\r\n\r\n');
        if (end < 0) return false;
        const lines = end === 0 ? [] : buffer.subarray(0, end).toString('utf8').split('\r\n');
        headers.push(
          Object.fromEntries(
            lines.map((line) => {
              const colon = line.indexOf(':');
              return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
            }),
          ),
        );
        buffer = buffer.subarray(end === 0 ? 2 : end + 4);
        state = 'content';
        return true;
      }
      case 'content': {
        const at = buffer.indexOf(delimiter);
        if (at >= 0) {
          await takeContent(buffer.subarray(0, at));
          buffer = buffer.subarray(at + delimiter.length);
          part++;
          if (part > 2) throw new MultipartError('expected two parts (metadata and media), found more');
          state = 'after-delimiter';
          return true;
        }
        // Keep enough bytes to recognise a delimiter split across chunks.
        const keep = final ? buffer.length : Math.min(buffer.length, delimiter.length - 1);
        await takeContent(buffer.subarray(0, buffer.length - keep));
        buffer = buffer.subarray(buffer.length - keep);
        return false;
      }
      case 'done':
        return false;
    }
  };

  for await (const chunk of body) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (await step(false));
  }
  while (await step(true));
  if (state !== 'done') throw new MultipartError(`the body ended before the closing --${boundary}--`);
  if (part !== 2) throw new MultipartError(`expected two parts (metadata and media), found ${part}`);

  let metadata: unknown;
  try {
    metadata = JSON.parse(Buffer.concat(metadataChunks).toString('utf8') || '{}');
  } catch (e) {
    throw new MultipartError(`the metadata part is not JSON: ${(e as Error).message}`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new MultipartError('the metadata part must be a JSON object');
  const mediaContentType = headers[1]?.['content-type'];
  return {
    metadata: metadata as Record<string, unknown>,
    ...(mediaContentType ? { mediaContentType } : {}),
    mediaBytes,
  };
}
