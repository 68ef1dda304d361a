// The item picker: typing narrows the list of items that appear in rules, and picking one adds it as a chip. A
// picked item matches whole items only ("ham" never finds "hamburger meat"). Several can be picked; the side
// they must be on, and whether a rule needs all of them or any, are chosen beside it. A combobox as WAI-ARIA
// describes it: arrows move through the list, Enter picks, Escape closes, Backspace in the empty box removes the
// last chip.
import type { RuleItem } from '../../../types.ts';
import { fmtInt, h } from '../../dom.ts';
import type { Match, Side } from './state.ts';

const LISTED = 50;

export interface PickerOptions {
  items: RuleItem[];
  picked: string[];
  side: Side;
  match: Match;
  onItems: (items: string[]) => void;
  onSide: (side: Side) => void;
  onMatch: (match: Match) => void;
}

function choice<T extends string>(
  id: string,
  label: string,
  value: T,
  options: [T, string][],
  onChange: (value: T) => void,
) {
  return h(
    'select',
    {
      id,
      'data-testid': id,
      'aria-label': label,
      onChange: (e: Event) => onChange((e.target as HTMLSelectElement).value as T),
    },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
  );
}

function chips(picked: string[], remove: (item: string) => void): HTMLElement {
  return h(
    'ul',
    { class: 'chips', 'data-testid': 'picked-items', 'aria-label': 'Items picked' },
    picked.map((item) =>
      h(
        'li',
        { class: 'chip' },
        h('span', {}, item),
        h('button', { type: 'button', 'aria-label': `Remove ${item}`, onClick: () => remove(item) }, '×'),
      ),
    ),
  );
}

interface ComboOptions {
  items: RuleItem[];
  /** Items already picked, left out of the list. */
  picked: () => string[];
  onPick: (item: string) => void;
  /** Backspace in the empty box. */
  onUnpick: () => void;
}

function options(shown: RuleItem[], pick: (item: string) => void): HTMLElement[] {
  return shown.map((i, n) =>
    h(
      'li',
      {
        id: `item-option-${n}`,
        role: 'option',
        'aria-selected': 'false',
        'data-item': i.item,
        // On mousedown, before the box loses focus and closes the list.
        onMousedown: (e: Event) => (e.preventDefault(), pick(i.item)),
      },
      h('span', {}, i.item),
      h('span', { class: 'muted small' }, `${fmtInt(i.rules)} rules`),
    ),
  );
}

/** The text box and its list of items. */
function comboBox(o: ComboOptions): HTMLElement {
  let shown: RuleItem[] = [];
  let active = -1;
  const list = h('ul', {
    id: 'item-options',
    class: 'options',
    role: 'listbox',
    'aria-label': 'Items',
    'data-testid': 'item-options',
    hidden: true,
  });
  const input = h('input', {
    type: 'text',
    id: 'item-input',
    'data-testid': 'item-input',
    role: 'combobox',
    autocomplete: 'off',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'item-options',
    placeholder: 'Add an item, e.g. whole milk',
  });
  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  };
  const highlight = (index: number) => {
    active = index;
    Array.from(list.children).forEach((el, i) => el.setAttribute('aria-selected', String(i === index)));
    const option = list.children[index];
    if (option) input.setAttribute('aria-activedescendant', option.id);
    option?.scrollIntoView({ block: 'nearest' });
  };
  const pick = (item: string) => {
    o.onPick(item);
    input.value = '';
    close();
  };
  const open = () => {
    const typed = input.value.trim().toLowerCase();
    const picked = o.picked();
    shown = o.items
      .filter((i) => !picked.includes(i.item) && i.item.toLowerCase().includes(typed))
      .slice(0, LISTED);
    list.replaceChildren(...options(shown, pick));
    list.hidden = shown.length === 0;
    input.setAttribute('aria-expanded', String(!list.hidden));
    highlight(shown.length ? 0 : -1);
  };
  const typedItem = () => o.items.find((i) => i.item.toLowerCase() === input.value.trim().toLowerCase());
  input.addEventListener('input', open);
  input.addEventListener('focus', open);
  input.addEventListener('blur', close);
  input.addEventListener('keydown', (e: KeyboardEvent) => {
    const move = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? shown.length - 1 : 0;
    if (move) {
      e.preventDefault();
      if (list.hidden) open();
      else if (shown.length) highlight((active + move) % shown.length);
    } else if (e.key === 'Enter') {
      const item = list.hidden ? typedItem()?.item : shown[active]?.item;
      if (item) pick(item);
      e.preventDefault();
    } else if (e.key === 'Escape') close();
    else if (e.key === 'Backspace' && input.value === '') o.onUnpick();
  });
  return h('div', { class: 'combo' }, input, list);
}

export function itemPicker(o: PickerOptions): HTMLElement {
  let picked = [...o.picked];
  const holder = h('div', {});
  const setPicked = (next: string[]) => {
    picked = next;
    holder.replaceChildren(chips(picked, (item) => setPicked(picked.filter((p) => p !== item))));
    o.onItems(picked);
  };
  holder.replaceChildren(chips(picked, (item) => setPicked(picked.filter((p) => p !== item))));
  const combo = comboBox({
    items: o.items,
    picked: () => picked,
    onPick: (item) => setPicked([...picked, item]),
    onUnpick: () => picked.length && setPicked(picked.slice(0, -1)),
  });
  const side = choice(
    'rule-side',
    'Where the items are',
    o.side,
    [
      ['any', 'on either side'],
      ['antecedent', 'on the “if” side'],
      ['consequent', 'on the “then” side'],
    ],
    o.onSide,
  );
  const match = choice(
    'rule-match',
    'All of the items or any',
    o.match,
    [
      ['all', 'all of them'],
      ['any', 'any of them'],
    ],
    o.onMatch,
  );
  return h(
    'div',
    { class: 'control picker' },
    h('label', { for: 'item-input' }, 'Items in the rule'),
    h('div', { class: 'picker-box' }, holder, combo),
    h('div', { class: 'picker-where' }, match, side),
  );
}
