// A threshold as a slider with a number box beside it: the slider to explore, the box for an exact value. On a
// log scale (lift) the slider moves through powers of ten, so that the many rules between 1 and 5 get as much
// of its travel as the few above 50; the box always holds the value itself. The slider's leftmost stop is "no
// threshold", and so is an empty box.
import { h } from '../../dom.ts';

export interface ThresholdOptions {
  id: string;
  label: string;
  /** The values the slider spans (the metric's range over every rule). */
  min: number;
  max: number;
  scale: 'linear' | 'log';
  /** A linear slider's step (default: a round step of about 200 stops). */
  step?: number;
  /** The value set, undefined for none. */
  value: number | undefined;
  show: (value: number) => string;
  onChange: (value: number | undefined) => void;
}

interface Scale {
  low: number;
  high: number;
  step: number;
  toSlider: (value: number) => number;
  fromSlider: (position: number) => number;
}

/** A round step that divides `span` into about `steps` stops. */
export function niceStep(span: number, steps: number): number {
  if (!(span > 0)) return 0.01;
  const raw = span / steps;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return Number((Math.ceil(raw / magnitude) * magnitude).toPrecision(2));
}

function scaleOf(o: ThresholdOptions): Scale {
  if (o.scale === 'log' && o.min > 0 && o.max > o.min) {
    const low = Math.floor(Math.log10(o.min) * 100) / 100;
    const high = Math.ceil(Math.log10(o.max) * 100) / 100;
    return {
      low,
      high,
      step: 0.01,
      toSlider: (v) => Math.log10(v),
      // Three significant digits: 1.58, 12.6 — what one stop of the slider can tell apart.
      fromSlider: (p) => Number((10 ** p).toPrecision(3)),
    };
  }
  const step = o.step ?? niceStep(o.max - Math.min(0, o.min), 200);
  const low = Math.min(0, o.min);
  return { low, high: Math.max(o.max, low + step), step, toSlider: (v) => v, fromSlider: (p) => p };
}

export function thresholdControl(o: ThresholdOptions): HTMLElement {
  const scale = scaleOf(o);
  const clamp = (p: number) => Math.min(scale.high, Math.max(scale.low, p));
  const slider = h('input', {
    type: 'range',
    id: o.id,
    'data-testid': o.id,
    min: scale.low,
    max: scale.high,
    step: scale.step,
    value: o.value === undefined ? scale.low : clamp(scale.toSlider(o.value)),
    'aria-label': `${o.label}${o.scale === 'log' ? ' (log scale)' : ''}`,
  });
  const box = h('input', {
    type: 'number',
    id: `${o.id}-number`,
    'data-testid': `${o.id}-number`,
    class: 'threshold-number',
    step: 'any',
    inputmode: 'decimal',
    placeholder: 'any',
    value: o.value ?? '',
    'aria-label': `${o.label}, exact value`,
  });
  const describe = (v: number | undefined) =>
    slider.setAttribute('aria-valuetext', v === undefined ? 'no threshold' : o.show(v));
  describe(o.value);
  slider.addEventListener('input', () => {
    const position = Number(slider.value);
    const value = position <= scale.low ? undefined : scale.fromSlider(position);
    box.value = value === undefined ? '' : String(value);
    describe(value);
    o.onChange(value);
  });
  box.addEventListener('input', () => {
    const typed = box.value.trim() === '' ? undefined : Number(box.value);
    if (typed !== undefined && !Number.isFinite(typed)) return;
    if (typed !== undefined && o.scale === 'log' && typed <= 0) return;
    slider.value = String(typed === undefined ? scale.low : clamp(scale.toSlider(typed)));
    describe(typed);
    o.onChange(typed);
  });
  return h(
    'div',
    { class: 'control threshold' },
    h('label', { for: o.id }, o.label, o.scale === 'log' ? h('span', { class: 'scale' }, 'log scale') : null),
    h('div', { class: 'threshold-inputs' }, slider, box),
  );
}
