// The rules explorer in Debian's Chromium, on the pipeline's own rules: the item picker (exact items, by mouse
// and by keyboard), the lift threshold on a log scale, sorting by every metric with the mouse and the keyboard,
// the CSV download equal to the API's rows, a shared address restoring the same view, the reset, and the page
// at phone width (390 px). With UPDATE_SCREENSHOTS=1 it also writes docs/screenshots/*-phone.png.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import type { RulesBounds, RulesPage } from '../../app/types.ts';
import { needsChromium, repoRoot } from '../helpers/services.ts';
import { launchChromium, openPage, runSamplePipeline, sectionReady } from './helpers.ts';

const chromiumOk = await needsChromium();
const screenshots = process.env.UPDATE_SCREENSHOTS === '1';
const screenshotDir = path.join(repoRoot, 'docs/screenshots');

describe.skipIf(!chromiumOk)('the rules explorer in Chromium', () => {
  let app: RunningApp;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let metrics: RulesBounds['metrics'];

  beforeAll(async () => {
    const project = await runSamplePipeline(20_000);
    app = await startApp({
      source: await localSource({ deltaRoot: project.deltaRoot, manifestsDir: project.manifestsDir }),
      port: 0,
    });
    browser = await launchChromium();
    metrics = (await api<RulesBounds>('/api/rules/bounds')).metrics;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function api<T>(p: string): Promise<T> {
    return ((await (await fetch(app.url + p)).json()) as { data: T }).data;
  }

  async function rules(hash = ''): Promise<{ page: Page; problems: string[] }> {
    const opened = await openPage(browser.context, `${app.url}/#/rules${hash}`);
    await sectionReady(opened.page, 'rules');
    return opened;
  }

  const count = (page: Page) => page.getByTestId('rule-count');

  /** Waits until the count is for `query` (a part of the API query), then checks it against the API. */
  async function countIs(page: Page, query: string): Promise<RulesPage> {
    await expect.poll(() => count(page).getAttribute('data-query')).toContain(query);
    const expected = await api<RulesPage>(
      `/api/rules?${await count(page).getAttribute('data-query')}&pageSize=500`,
    );
    await expect.poll(() => count(page).getAttribute('data-total')).toBe(String(expected.total));
    return expected;
  }

  /** The items of each side of every row shown, as lists. */
  function sides(page: Page): Promise<string[][][]> {
    return page
      .locator('[data-testid="rules-table"] tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          Array.from(tr.querySelectorAll('td.side')).map((td) =>
            Array.from(td.querySelectorAll('li')).map((li) => li.textContent ?? ''),
          ),
        ),
      );
  }

  test('the item picker finds exact items, by mouse and by keyboard', async () => {
    const { page, problems } = await rules();
    try {
      const input = page.getByTestId('item-input');
      await input.fill('butter');
      // Both "butter" and "butter milk" are offered; picking "butter" means that item only.
      const offered = await page
        .locator('#item-options [role="option"]')
        .evaluateAll((os) => os.map((o) => o.getAttribute('data-item')));
      expect(offered).toEqual(expect.arrayContaining(['butter', 'butter milk']));
      await page.locator('#item-options [data-item="butter"]').click();
      expect(await page.getByTestId('picked-items').locator('li > span').allTextContents()).toEqual([
        'butter',
      ]);
      const withButter = await countIs(page, 'item=butter');
      expect(withButter.total).toBeGreaterThan(3);
      for (const [a, c] of await sides(page)) expect([...a!, ...c!]).toContain('butter');

      // The keyboard: type, arrow to the option, Enter.
      await input.fill('brown br');
      await expect.poll(() => input.getAttribute('aria-expanded')).toBe('true');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      const both = await countIs(page, 'item=butter&item=brown+bread');
      expect(both.total).toBeLessThan(withButter.total!);
      for (const [a, c] of await sides(page))
        expect([...a!, ...c!]).toEqual(expect.arrayContaining(['butter', 'brown bread']));

      // Either of them, on the "if" side only.
      await page.getByTestId('rule-match').selectOption('any');
      await page.getByTestId('rule-side').selectOption('antecedent');
      await countIs(page, 'side=antecedent&match=any');
      for (const [a] of await sides(page))
        expect(a!.some((i) => i === 'butter' || i === 'brown bread')).toBe(true);

      // Backspace in the empty box removes the last item; the chip's button removes the other.
      await input.focus();
      await page.keyboard.press('Backspace');
      await countIs(page, 'item=butter&side');
      await page.getByRole('button', { name: 'Remove butter' }).click();
      await expect.poll(() => count(page).getAttribute('data-query')).not.toContain('item=');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('the lift threshold runs on a log scale, with the exact value in the box beside it', async () => {
    const { page, problems } = await rules();
    try {
      const lift = metrics.find((m) => m.key === 'lift')!;
      const slider = page.getByTestId('lift-slider');
      const box = page.getByTestId('lift-slider-number');
      // The slider's ends are powers of ten of the lowest and highest lift.
      expect(Number(await slider.getAttribute('max'))).toBeCloseTo(Math.log10(lift.max!), 1);
      await box.fill('1');
      await countIs(page, 'minLift=1');
      expect(await slider.inputValue()).toBe('0');
      // Thirty steps of the keyboard from 1 reach 2 (10^0.3); a linear slider to 100 would be at 1.3.
      await slider.focus();
      for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
      expect(await box.inputValue()).toBe('2');
      expect(await slider.getAttribute('aria-valuetext')).toBe('2');
      const two = await countIs(page, 'minLift=2');
      expect(two.rows.every((r) => r.metrics.lift! >= 2)).toBe(true);
      // Home is no threshold at all.
      await page.keyboard.press('Home');
      await expect.poll(() => count(page).getAttribute('data-query')).not.toContain('minLift');
      expect(await box.inputValue()).toBe('');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('every metric sorts the table, by mouse and by keyboard, as the API does', async () => {
    const { page, problems } = await rules();
    try {
      await page.getByTestId('column-chooser').locator('summary').click();
      await page.getByTestId('columns-all').click();
      await page.getByTestId('column-chooser').locator('summary').click();
      const table = page.getByTestId('rules-table');
      for (const m of metrics) {
        for (const [dir, how] of [
          ['desc', 'mouse'],
          ['asc', 'keyboard'],
        ] as const) {
          const button = table.locator(`th button[data-sort="${m.key}"]`);
          if (how === 'mouse') await button.click();
          else {
            // Pressing sorts again with the focus kept on the header's button: Enter turns the order round.
            await expect.poll(() => button.evaluate((b) => b === document.activeElement)).toBe(true);
            await page.keyboard.press('Enter');
          }
          await expect
            .poll(() =>
              table
                .getAttribute('data-sort')
                .then(async (s) => `${s} ${await table.getAttribute('data-dir')}`),
            )
            .toBe(`${m.key} ${dir}`);
          expect(await button.locator('xpath=..').getAttribute('aria-sort')).toBe(
            dir === 'asc' ? 'ascending' : 'descending',
          );
          const shown = await table
            .locator(`td[data-key="${m.key}"]`)
            .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')));
          const expected = await api<RulesPage>(`/api/rules?sort=${m.key}&dir=${dir}`);
          expect(shown, `${m.key} ${dir}`).toEqual(
            expected.rows.map((r) => (r.metrics[m.key] === null ? '' : String(r.metrics[m.key]))),
          );
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('the CSV download holds exactly the rules the API answers for the view', async () => {
    const { page, problems } = await rules('?item=whole+milk&minConfidence=0.2&sort=confidence&dir=asc');
    try {
      await countIs(page, 'item=whole+milk');
      // The rules of the view, in its order: the API's answer for the same query.
      const query = await count(page).getAttribute('data-query');
      const expected = await api<RulesPage>(`/api/rules?${query}&sort=confidence&dir=asc&pageSize=500`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('rules-csv').click(),
      ]);
      expect(download.suggestedFilename()).toBe('association_rules.csv');
      const [header, ...lines] = fs
        .readFileSync(await download.path(), 'utf8')
        .trimEnd()
        .split('\r\n');
      const columns = header!.split(',');
      expect(columns).toEqual(['antecedents', 'consequents', ...metrics.map((m) => m.column)]);
      expect(lines.length).toBe(expected.total);
      lines.forEach((line, i) => {
        const fields = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)]
          .map((f) => f[1]!.replace(/^"|"$/g, ''))
          .slice(0, columns.length);
        const rule = expected.rows[i]!;
        expect(fields.slice(0, 2)).toEqual([rule.antecedents.join(', '), rule.consequents.join(', ')]);
        metrics.forEach((m, j) => {
          const value = fields[j + 2] === 'inf' ? null : Number(fields[j + 2]);
          expect(value, `${m.key} of rule ${i}`).toBe(rule.metrics[m.key]);
        });
      });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  /** What the view shows: the address, the controls, the count and the table's text. */
  async function viewOf(page: Page) {
    const table = page.getByTestId('rules-table');
    return {
      picked: await page.getByTestId('picked-items').locator('li > span').allTextContents(),
      lift: await page.getByTestId('lift-slider-number').inputValue(),
      side: await page.getByTestId('rule-side').inputValue(),
      count: await count(page).getAttribute('data-total'),
      sort: [await table.getAttribute('data-sort'), await table.getAttribute('data-dir')],
      headers: await table.locator('thead th').allTextContents(),
      rows: await table.locator('tbody tr').allTextContents(),
      pageText: await page.getByTestId('rules-page').textContent(),
    };
  }

  test('the address keeps the view: a shared link shows the same rules; the reset clears it', async () => {
    const { page, problems } = await rules();
    try {
      await page.getByTestId('item-input').fill('whole milk');
      await page.locator('#item-options [data-item="whole milk"]').click();
      await page.getByTestId('rule-side').selectOption('consequent');
      await page.getByTestId('lift-slider-number').fill('1.1');
      await countIs(page, 'minLift=1.1');
      await page.getByTestId('column-chooser').locator('summary').click();
      await page.getByTestId('column-zhangsMetric').check();
      await page.getByTestId('column-chooser').locator('summary').click();
      await page.getByTestId('rules-table').locator('th button[data-sort="zhangsMetric"]').click();
      await expect.poll(() => page.getByTestId('rules-table').getAttribute('data-sort')).toBe('zhangsMetric');
      await page.getByTestId('page-size').selectOption('10');
      await expect.poll(() => page.getByTestId('rules-page').textContent()).toMatch(/of [2-9]|of \d\d/);
      await page.getByRole('button', { name: 'Next ›' }).click();
      await expect.poll(() => page.getByTestId('rules-page').textContent()).toMatch(/^Page 2 of/);
      const shared = page.url();
      expect(shared).toContain('item=whole+milk');
      expect(shared).toContain('cols=');
      const original = await viewOf(page);

      const { page: other, problems: otherProblems } = await openPage(browser.context, shared);
      try {
        await sectionReady(other, 'rules');
        await expect.poll(() => other.getByTestId('rules-page').textContent()).toBe(original.pageText);
        expect(await viewOf(other)).toEqual(original);
        expect(otherProblems).toEqual([]);
      } finally {
        await other.close();
      }

      await page.getByTestId('rules-reset').click();
      await expect.poll(() => count(page).getAttribute('data-query')).toBe('side=any&match=all');
      expect(new URL(page.url()).hash).toBe('#/rules');
      expect(await page.getByTestId('picked-items').locator('li').count()).toBe(0);
      expect(await page.getByTestId('lift-slider-number').inputValue()).toBe('');
      expect(Number(await count(page).getAttribute('data-total'))).toBe(
        (await api<RulesBounds>('/api/rules/bounds')).rules,
      );
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('at 390 px: no sideways scrolling, a tab bar that shows it scrolls, rules as cards', async () => {
    const { page, problems } = await openPage(browser.context, `${app.url}/#/overview`);
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const section of ['overview', 'rules', 'sales', 'items', 'data']) {
        await page.goto(`${app.url}/#/${section}`);
        await sectionReady(page, section);
        await page.waitForTimeout(300);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), section).toBeLessThanOrEqual(
          390,
        );
        if (screenshots && section === 'overview')
          await page.screenshot({ path: path.join(screenshotDir, 'overview-phone.png') });
        if (screenshots && section === 'rules') {
          // The rules as cards, below the filters and the scatter.
          await page.evaluate(() => document.querySelector('.rules-toolbar')?.scrollIntoView());
          await page.screenshot({ path: path.join(screenshotDir, 'rules-phone.png') });
        }
      }
      // The tabs do not fit: the bar scrolls and its right edge shows an arrow.
      const nav = page.locator('nav.tabs');
      expect(await nav.evaluate((n) => n.scrollWidth > n.clientWidth)).toBe(true);
      await page.goto(`${app.url}/#/overview`);
      await sectionReady(page, 'overview');
      const cue = () =>
        page.locator('.tabs-wrap').evaluate((w) => [w.className, getComputedStyle(w, '::after').opacity]);
      await expect.poll(cue).toEqual(['tabs-wrap more-after', '1']);
      await nav.evaluate((n) => n.scrollTo({ left: n.scrollWidth, behavior: 'instant' }));
      await expect.poll(cue).toEqual(['tabs-wrap more-before', '0']);

      // Each rule is a card: every cell on its own line with its column's name.
      await page.goto(`${app.url}/#/rules`);
      await sectionReady(page, 'rules');
      const row = page.locator('[data-testid="rules-table"] tbody tr').first();
      expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe('block');
      const labels = await row
        .locator('td')
        .evaluateAll((tds) => tds.map((td) => getComputedStyle(td, '::before').content));
      expect(labels.slice(0, 3)).toEqual(['"If a basket has"', '"it also has"', '"Support"']);
      const box = await row.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      expect(await page.getByTestId('sort-select').isVisible()).toBe(true);
      await page.getByTestId('sort-select').selectOption('confidence');
      await expect.poll(() => page.getByTestId('rules-table').getAttribute('data-sort')).toBe('confidence');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
