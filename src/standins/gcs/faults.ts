// Switchable faults for the GCS test server. A seeded generator picks which requests fail, so a failing test
// replays the same faults; `inject` forces the next faults exactly, for tests that need one particular failure.
import { mulberry32 } from '../../util/random.ts';

/**
 * `reset`: the connection is reset (mid-body for a request with a body); `lost-response`: the request takes
 * effect, then the connection is reset instead of answered; `slow`: served after `slowMs`; `corrupt`: an upload
 * that completes stores one byte changed (the server's hashes describe what it stored); the rest answer with
 * that HTTP status.
 */
export const FAULT_KINDS = ['500', '503', '429', '408', 'reset', 'lost-response', 'slow', 'corrupt'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the server knows about a request when it decides whether to fail it. */
export interface FaultTarget {
  method: string;
  kind: string;
  bucket?: string;
  object?: string;
}

export interface FaultSettings {
  /** Probability in [0, 1] that an eligible request gets a fault. */
  rate: number;
  /** Faults to choose from, uniformly. */
  kinds: FaultKind[];
  /** How long a `slow` response waits before it is served. */
  slowMs: number;
  seed: number;
  /** Requests for which this returns false are never failed by `rate` (forced faults ignore it too). */
  eligible: (target: FaultTarget) => boolean;
}

const DEFAULTS: FaultSettings = {
  rate: 0,
  kinds: ['503', '429', 'reset'],
  slowMs: 200,
  seed: 1,
  eligible: () => true,
};

export class Faults {
  private settings: FaultSettings = { ...DEFAULTS };
  private random = mulberry32(DEFAULTS.seed);
  private readonly forced: { kind: FaultKind; when: (t: FaultTarget) => boolean }[] = [];

  /** Changes some settings; a new seed restarts the sequence. */
  set(settings: Partial<FaultSettings>): this {
    for (const kind of settings.kinds ?? [])
      if (!FAULT_KINDS.includes(kind))
        throw new Error(
          `unknown fault kind ${JSON.stringify(kind)} (expected one of ${FAULT_KINDS.join(', ')})`,
        );
    if (settings.rate !== undefined && !(settings.rate >= 0 && settings.rate <= 1))
      throw new Error(`fault rate must be within [0, 1], found ${settings.rate}`);
    this.settings = { ...this.settings, ...settings };
    if (settings.seed !== undefined) this.random = mulberry32(settings.seed);
    return this;
  }

  /** No more faults, random or forced. */
  off(): this {
    this.settings = { ...DEFAULTS };
    this.forced.length = 0;
    return this;
  }

  /** Fails the next `count` requests that match `when` with `kind`. */
  inject(kind: FaultKind, when: (t: FaultTarget) => boolean = () => true, count = 1): this {
    for (let i = 0; i < count; i++) this.forced.push({ kind, when });
    return this;
  }

  get slowMs(): number {
    return this.settings.slowMs;
  }

  decide(target: FaultTarget): FaultKind | undefined {
    const index = this.forced.findIndex((f) => f.when(target));
    if (index >= 0) return this.forced.splice(index, 1)[0]!.kind;
    const { rate, kinds, eligible } = this.settings;
    if (rate === 0 || kinds.length === 0 || !eligible(target)) return undefined;
    if (this.random() >= rate) return undefined;
    return kinds[Math.floor(this.random() * kinds.length)];
  }
}
