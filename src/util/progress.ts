// Progress on long work: one line rewritten in place on a terminal, a line every few seconds in CI logs.
export interface Progress {
  update(status: string): void;
  done(status?: string): void;
}

export const noProgress: Progress = { update: () => {}, done: () => {} };

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const interactive = stream.isTTY === true;
  const every = interactive ? 100 : 5000;
  let last = 0;
  let latest = '';
  return {
    update(status) {
      latest = status;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      if (interactive) stream.write(`\r\x1b[K${label}: ${status}`);
      else stream.write(`${label}: ${status}\n`);
    },
    done(status) {
      if (interactive && last > 0) stream.write('\r\x1b[K');
      if (status ?? latest) stream.write(`${label}: ${status ?? latest}\n`);
    },
  };
}
