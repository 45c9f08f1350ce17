// The live Theorem 1 explorer's formulas (book/_static/live/theorem1.js) against sgdlab's own
// numbers on the main-theorem chapter's ripple (tests/js/fixture_theorem1.py): the config that
// sgdlab.book.main_theorem.live_theorem1 writes, the rows of the domain the trials start from
// (sgdlab.random_rows, drawn by the page) bit for bit, and at several (lr, W) the constants of
// sgdlab.theory.measure / theorem1_measurements (L, c, lambda, b, 20b/lambda, T1) to rtol 1e-9,
// the steps, verdicts and counts exactly, and SGD's final iterates from sgdlab's starts with
// sgdlab's noise stream to the rounding that Math.sin's last bit lets 2,000 steps amplify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const t1 = require('../../book/_static/live/theorem1.js');
const core = require('../../book/_static/live/core.js');
const folder = process.env.SGDLAB_JS_FIXTURES;
const { configs } = JSON.parse(readFileSync(folder + '/theorem1.json', 'utf8'));
const RTOL = 1e-9;       // the constants (measured: equal, or T1 within 3e-16)
const X_RTOL = 1e-12;    // the final iterates (measured: at most 3e-14, most of them equal)
const CLOSE = ['L', 'c', 'lam', 'b', 'radius_sq', 'T1', 'dist0_sq', 'lr_max', 'measured',
               'share_within', 'L_at', 'c_at_y'];
const EXACT = ['steps', 'violations', 'n_points', 'step_size_ok', 'failing', 'diverged'];

function relative(a, b) {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  return Math.abs(a - b) / Math.abs(b);
}

function close(actual, expected, rtol, what) {
  assert.ok(relative(actual, expected) <= rtol, `${what}: ${actual} != ${expected}`);
}

const results = new Map();
function numbersOf(config, c) {
  const key = JSON.stringify([config.domain, c.lr, c.noise]);
  if (!results.has(key)) results.set(key, t1.compute(config, { lr: c.lr, noise: c.noise }));
  return results.get(key);
}

test('the fixture has the edge cases', () => {
  const cases = configs.flatMap((x) => x.cases);
  assert.ok(cases.some((c) => c.noise === 0 && c.b === 0 && c.T1 === 'NaN'));
  assert.ok(cases.some((c) => c.lam < 0 && c.c > 0 && c.T1 === 'NaN' && c.steps === 2000));
  assert.ok(cases.some((c) => !c.step_size_ok && c.c > 0 && c.lam > 0));
  assert.ok(cases.some((c) => c.step_size_ok) && cases.some((c) => c.c < 0));
  assert.ok(cases.some((c) => Number(c.T1) > 2000 && c.steps === 2000));
  assert.ok(configs.some((x) => x.config.domain.points) && configs.some((x) => x.config.domain.n_points));
});

test('the domain is the one sgdlab measured on, bit for bit', () => {
  const grid = configs.find((x) => x.config.domain.n_points).config;
  const x = t1.domainPoints(grid.domain);
  assert.equal(x.length, 2001);
  assert.equal(x[0], -3); assert.equal(x[2000], 3); assert.equal(x[1000], 0);
  assert.equal(x[1], -3 + 6 / 2000);
});

test('the trials start from the rows sgdlab.random_rows draws, bit for bit', () => {
  for (const { config, starts } of configs) {
    const x = t1.domainPoints(config.domain);
    assert.deepEqual(Array.from(t1.startRows(x, config.settings)), starts);
    assert.deepEqual(Array.from(numbersOf(config, config.settings).starts), starts);
    assert.equal(starts.length, config.settings.trials);
  }
});

test('trials and max_steps are refused beyond the config\'s limits', () => {
  const { config } = configs[0];
  for (const name of ['trials', 'max_steps']) {
    assert.throws(() => t1.compute(config, { [name]: config.limits[name] + 1 }),
                  new RegExp(`${name} must be an integer in \\[1, ${config.limits[name]}\\]`));
    assert.throws(() => t1.compute(config, { [name]: 0 }), new RegExp(name));
  }
});

for (const [k, { config, cases }] of configs.entries()) {
  for (const c of cases) {
    const name = `config ${k}, lr ${c.lr}, W ${c.noise}`;
    test(`${name}: L, c, lambda, b, T1, 20b/lambda and the verdicts agree with sgdlab`, () => {
      const n = numbersOf(config, c);
      for (const key of EXACT) assert.equal(n[key], c[key], key);
      for (const key of CLOSE) close(n[key], Number(c[key]), RTOL, key);
    });
    test(`${name}: SGD's final iterates agree with sgdlab`, () => {
      const n = numbersOf(config, c);
      assert.equal(n.x.length, c.x.length);
      c.x.forEach((v, i) => close(n.x[i], Number(v), X_RTOL, `x[${i}]`));
      c.dist_sq.forEach((v, i) => assert.ok(Math.abs(n.dist_sq[i] - Number(v)) <= 1e-15 +
        1e-11 * Number(v), `dist_sq[${i}]`));
    });
    test(`${name}: the sentence follows the numbers`, () => {
      const n = numbersOf(config, c);
      assert.equal(n.sentence.startsWith('Every hypothesis holds'), c.step_size_ok);
      assert.equal(n.sentence.includes('Assumption 1 fails'), !(c.c > 0));
      if (c.step_size_ok) assert.ok(n.sentence.includes('100%') === (c.share_within === 1));
    });
  }
}

test('the async run equals the one at once, and a cancelled run resolves to null', async () => {
  const { config, cases } = configs[0];
  const c = cases[0];
  let fractions = 0;
  const n = await t1.computeAsync(config, { lr: c.lr, noise: c.noise },
                                  { budgetMs: 1, onProgress: () => { fractions++; } });
  assert.deepEqual(Array.from(n.x), Array.from(numbersOf(config, c).x));
  assert.ok(fractions > 1);
  assert.equal(await t1.computeAsync(config, {}, { isCancelled: () => true }), null);
  await assert.rejects(t1.computeAsync(config, { lr: -1 }), /lr must be/);
  assert.throws(() => t1.compute(config, { noise: NaN }), /noise must be/);
});

test('the quantile is numpy.quantile (linear), inf among infs', () => {
  assert.equal(t1.quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(t1.quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9.1);
  assert.equal(t1.quantile([1, Infinity, Infinity], 0.9), Infinity);
  assert.equal(t1.quantile([1, 2, Infinity], 0.9), Infinity);
  assert.equal(t1.quantile([5], 0.9), 5);
});

test('T1 and the step-size condition follow Theorem 1 at the edges', () => {
  const t = t1.theorem1(0.01, 7, 1, 0, 9);  // W = 0: b = 0, T1 infinite
  assert.equal(t.b, 0); assert.equal(t.T1, Infinity); assert.equal(t.radiusSq, 0);
  assert.equal(t1.stepsFor(t.T1, 2000), 2000);
  const bad = t1.theorem1(0.01, 7, -0.5, 5, 9);
  assert.equal(bad.stepSizeOk, false); assert.equal(bad.failing, 'c <= 0');
  assert.ok(Number.isNaN(bad.T1)); assert.equal(bad.radiusSq, Infinity);
  assert.equal(t1.stepsFor(0, 2000), 1);
  assert.equal(t1.firstTime(0.1, 1, 5), 0);  // log(0.5) < 0
});

test('SGD runs through core.js with the ripple slope (no spiky fast path)', () => {
  const land = t1.ripple(configs[0].config.landscape);
  assert.equal(land.growth, undefined);
  const x = Float64Array.of(1.0), key = core.seedKey(0, core.Stream.SGD);
  core.sgdTrials(land, x, { lr: 0.01, noise: 0, steps: 1, key });
  assert.equal(x[0], 1.0 - 0.01 * (land.slope(1.0) + 0 * 0));
});
