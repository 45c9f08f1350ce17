// The live Figure 4 explorer's formulas (book/_static/live/figure4.js) against sgdlab's own
// numbers on the rippled bowl (tests/js/fixture_figure4.py): the gradient, the change of the
// squared distance (sgdlab.theory.gd_distance_change), the exact threshold eta0
// (overshoot_lr) and Theorem 3's eta3 (theorem3_threshold), to rtol 1e-12; the regime and
// the sentence follow the numbers; marching squares finds a circle's level set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const figure4 = require('../../book/_static/live/figure4.js');
const folder = process.env.SGDLAB_JS_FIXTURES;
const fixture = JSON.parse(readFileSync(folder + '/figure4.json', 'utf8'));
const { config, cases } = fixture;
const RTOL = 1e-12;

/** Number() reads the fixture's "Infinity" / "NaN" strings. */
const num = (v) => Number(v);

function close(actual, expected, what) {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: ${actual} not NaN`);
  if (!Number.isFinite(expected)) return assert.equal(actual, expected, what);
  const scale = Math.abs(expected);
  assert.ok(Math.abs(actual - expected) <= RTOL * scale || actual === expected,
    `${what}: ${actual} != ${expected} (relative ${Math.abs(actual - expected) / scale})`);
}

function relative(a, b) {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  return Math.abs(a - b) / Math.abs(b);
}

test('the fixture has the edge cases', () => {
  assert.ok(cases.length > 300);
  assert.ok(cases.some((c) => c.x_t[0] === 0 && c.x_t[1] === 0 && c.eta3 === 'Infinity'));
  assert.ok(cases.some((c) => c.x_t[0] === 0 && c.x_t[1] !== 0));
  assert.ok(cases.some((c) => c.lr >= 1e12) && cases.some((c) => c.lr <= 1e-12));
});

/** The change of the squared distance is a difference of two squared distances: its
    rounding is relative to the larger of them (at the boundary lr = eta0 it is all rounding). */
function changeScale(c) {
  const g = c.grad, x = c.x_t, before = x[0] * x[0] + x[1] * x[1];
  const a = [x[0] - c.lr * g[0], x[1] - c.lr * g[1]];
  return Math.max(Math.abs(num(c.change)), before, a[0] * a[0] + a[1] * a[1]);
}

function formulas(c) {
  const g = figure4.grad(c.x_t, config);
  return {
    f: figure4.f(c.x_t, config), grad0: g[0], grad1: g[1],
    change: figure4.gdDistanceChange(c.x_t, c.lr, config, config.x_star),
    eta0: figure4.overshootLr(c.x_t, config, config.x_star),
    eta3: figure4.theorem3Threshold(c.x_t, config.c_prime, config, config.x_star),
  };
}

const expected = (c) => ({ f: num(c.f), grad0: c.grad[0], grad1: c.grad[1],
  change: num(c.change), eta0: num(c.eta0), eta3: num(c.eta3) });

test('formulas equal sgdlab to rtol 1e-12 (largest difference reported)', () => {
  const worst = {};
  let bitwise = 0, total = 0;
  for (const c of cases) {
    const got = formulas(c), want = expected(c);
    for (const key of Object.keys(want)) {
      const where = `${key} at x_t=${JSON.stringify(c.x_t)}, lr=${c.lr}`;
      if (key === 'change' && Number.isFinite(want.change)) {
        const error = Math.abs(got.change - want.change);
        assert.ok(error <= RTOL * changeScale(c), `${where}: ${got.change} != ${want.change}`);
        worst.change = Math.max(worst.change || 0, error / changeScale(c));
      } else {
        close(got[key], want[key], where);
        worst[key] = Math.max(worst[key] || 0, relative(got[key], want[key]));
      }
      total += 1;
      bitwise += Object.is(got[key], want[key]) ? 1 : 0;
    }
  }
  console.log(`figure4: ${bitwise} of ${total} values bitwise equal; largest relative ` +
    `difference (change: relative to the larger squared distance) ${JSON.stringify(worst)}`);
});

test('bitwise equal wherever Math.sin equals the C library sin', () => {
  let same = 0;
  for (const c of cases) {
    const got = formulas(c), want = expected(c);
    if (Math.sin(config.omega * c.x_t[0]) === c.sin_f) assert.ok(Object.is(got.f, want.f));
    if (Math.sin(2 * config.omega * c.x_t[0]) !== c.sin_grad) continue;
    same += 1;
    for (const key of ['grad0', 'grad1', 'change', 'eta0', 'eta3']) {
      assert.ok(Object.is(got[key], want[key]),
        `${key} at x_t=${JSON.stringify(c.x_t)}, lr=${c.lr}: ${got[key]} != ${want[key]}`);
    }
  }
  assert.ok(same > 0.9 * cases.length, `Math.sin differs from C at ${cases.length - same} points`);
});

test('numbers() agrees with the formulas and with sgdlab (ratio, change)', () => {
  for (const c of cases) {
    const n = figure4.numbers(config, c.x_t, c.lr);
    assert.ok(Object.is(n.change, formulas(c).change));
    close(n.eta0, num(c.eta0), `eta0 at ${c.x_t}`);
    close(n.eta3, num(c.eta3), `eta3 at ${c.x_t}`);
    if (Number.isFinite(num(c.ratio))) {
      assert.ok(relative(n.ratio, num(c.ratio)) <= 1e-12, `ratio at ${c.x_t}, lr=${c.lr}`);
    }
    assert.equal(n.inside, n.change < 0);
  }
});

test('the regime follows the thresholds', () => {
  const at = (x, lr) => figure4.numbers(config, x, lr);
  const base = at([0.5, 1.5], 1);
  const { eta0, eta3 } = base;
  assert.ok(0 < eta0 && eta0 < eta3);
  assert.equal(at([0.5, 1.5], eta0 / 2).regime, 'below');
  assert.equal(at([0.5, 1.5], eta0).regime, 'boundary');
  assert.equal(at([0.5, 1.5], Math.sqrt(eta0 * eta3)).regime, 'between');
  assert.equal(at([0.5, 1.5], eta3).regime, 'between');
  assert.equal(at([0.5, 1.5], 1.2 * eta3).regime, 'above');
  assert.equal(at([0, 0], 1).regime, 'still');
  assert.ok(at([0.5, 1.5], eta0 / 2).sentence.includes('ends closer to x*'));
  assert.ok(at([0.5, 1.5], 1.2 * eta3).sentence.includes('ends farther from x*'));
  assert.ok(at([0.5, 1.5], 1.2 * eta3).change > 0);
  assert.ok(at([0.5, 1.5], eta0 / 2).change < 0);
  const strict = { ...config, c_prime: 1e-3 };  // c' too small: the hypothesis fails at x_t
  assert.equal(figure4.numbers(strict, [0.5, 1.5], 1).regime, 'hypothesis');
});

test('marching squares: the level 1 of x^2 + y^2 lies on the unit circle', () => {
  const xs = Array.from({ length: 41 }, (_, k) => -2 + k / 10);
  const values = xs.map((y) => xs.map((x) => x * x + y * y));
  const segments = figure4.contour(values, xs, xs, 1);
  assert.ok(segments.length > 30);
  for (const s of segments) {
    for (const p of s) assert.ok(Math.abs(Math.hypot(p[0], p[1]) - 1) < 0.01, `${p}`);
  }
  assert.deepEqual(figure4.contour(values, xs, xs, 100), []);
});

test('levels of f through x* + s(x_t - x*) increase along the ray', () => {
  const levels = figure4.levelValues({ ...config, levels: 9 }, [0.5, 1.5], 2);
  assert.equal(levels.length, 9);
  for (let k = 1; k < levels.length; k++) assert.ok(levels[k] > levels[k - 1]);
});
