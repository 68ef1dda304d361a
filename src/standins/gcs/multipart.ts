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
  const reader = new MultipartReader(boundary, writeMedia);
  for await (const chunk of body) await reader.push(chunk);
  await reader.end();
  const mediaContentType = reader.headers[1]?.['content-type'];
  return {
    metadata: metadataOf(reader.metadataChunks),
    ...(mediaContentType ? { mediaContentType } : {}),
    mediaBytes: reader.mediaBytes,
  };
}

function metadataOf(chunks: Buffer[]): Record<string, unknown> {
  let metadata: unknown;
  try {
    metadata = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch (e) {
    throw new MultipartError(`the metadata part is not JSON: ${(e as Error).message}`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new MultipartError('the metadata part must be a JSON object');
  return metadata as Record<string, unknown>;
}

/** The parser's states, one method each: each takes what it can from the buffer and says whether to go on. */
class MultipartReader {
  readonly headers: Record<string, string>[] = [];
  readonly metadataChunks: Buffer[] = [];
  mediaBytes = 0;
  private metadataBytes = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private state: 'preamble' | 'headers' | 'content' | 'after-delimiter' | 'done' = 'preamble';
  private part = 0;
  private readonly opening: Buffer;
  private readonly delimiter: Buffer;
  private readonly boundary: string;
  private readonly writeMedia: (chunk: Buffer) => Promise<void>;

  constructor(boundary: string, writeMedia: (chunk: Buffer) => Promise<void>) {
    this.boundary = boundary;
    this.writeMedia = writeMedia;
    this.opening = Buffer.from(`--${boundary}`);
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  async push(chunk: Buffer): Promise<void> {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (await this.step(false));
  }

  async end(): Promise<void> {
    while (await this.step(true));
    if (this.state !== 'done')
      throw new MultipartError(`the body ended before the closing --${this.boundary}--`);
    if (this.part !== 2)
      throw new MultipartError(`expected two parts (metadata and media), found ${this.part}`);
  }

  private async step(final: boolean): Promise<boolean> {
    switch (this.state) {
      case 'preamble':
        return this.preamble();
      case 'after-delimiter':
        return this.afterDelimiter();
      case 'headers':
        return this.partHeaders();
      case 'content':
        return this.content(final);
      case 'done':
        return false;
    }
  }

  private preamble(): boolean {
    const at = this.buffer.indexOf(this.opening);
    if (at < 0) return false;
    this.buffer = this.buffer.subarray(at + this.opening.length);
    this.state = 'after-delimiter';
    return true;
  }

  private afterDelimiter(): boolean {
    if (this.buffer.length < 2) return false;
    if (this.buffer.subarray(0, 2).toString() === '--') {
      this.state = 'done';
      return false;
    }
    const eol = this.buffer.indexOf('\r\n');
    if (eol < 0) return false;
    this.buffer = this.buffer.subarray(eol + 2);
    this.state = 'headers';
    return true;
  }

  private partHeaders(): boolean {
    // A part may have no headers at all, in which case the blank line comes first.
    const end = this.buffer.subarray(0, 2).toString() === '\r\n' ? 0 : this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const lines = end === 0 ? [] : this.buffer.subarray(0, end).toString('utf8').split('\r\n');
    this.headers.push(
      Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      ),
    );
    this.buffer = this.buffer.subarray(end === 0 ? 2 : end + 4);
    this.state = 'content';
    return true;
  }

  private async content(final: boolean): Promise<boolean> {
    const at = this.buffer.indexOf(this.delimiter);
    if (at >= 0) {
      await this.takeContent(this.buffer.subarray(0, at));
      this.buffer = this.buffer.subarray(at + this.delimiter.length);
      this.part++;
      if (this.part > 2) throw new MultipartError('expected two parts (metadata and media), found more');
      this.state = 'after-delimiter';
      return true;
    }
    // Keep enough bytes to recognise a delimiter split across chunks.
    const keep = final ? this.buffer.length : Math.min(this.buffer.length, this.delimiter.length - 1);
    await this.takeContent(this.buffer.subarray(0, this.buffer.length - keep));
    this.buffer = this.buffer.subarray(this.buffer.length - keep);
    return false;
  }

  private async takeContent(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (this.part === 0) {
      this.metadataBytes += chunk.length;
      if (this.metadataBytes > MAX_METADATA_BYTES)
        throw new MultipartError(`the metadata part is larger than ${MAX_METADATA_BYTES} bytes`);
      this.metadataChunks.push(chunk);
    } else {
      this.mediaBytes += chunk.length;
      await this.writeMedia(chunk);
    }
  }
}
