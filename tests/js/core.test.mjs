// book/_static/live/core.js against sgdlab: known answers written by tests/js/fixture_core.py
// at test time (make test-js). Floats are compared bit for bit (Object.is).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const core = createRequire(import.meta.url)("../../book/_static/live/core.js");
const folder = process.env.SGDLAB_JS_FIXTURES;
if (!folder) throw new Error("SGDLAB_JS_FIXTURES is not set: run `make test-js`");
const fixture = JSON.parse(readFileSync(`${folder}/core.json`, "utf8"));

const number = (v) => (typeof v === "string" ? Number(v.replace("inf", "Infinity")) : v);
const hex = ([hi, lo]) => hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");

function assertBitwise(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], number(expected[i]))) {
      assert.fail(`${what}[${i}]: ${actual[i]} (JS) != ${number(expected[i])} (sgdlab)`);
    }
  }
}

test("seed keys equal sgdlab._rng.seed_key", () => {
  for (const { seed, stream, key } of fixture.stream.keys) {
    assert.equal(hex(core.seedKey(seed, stream)), key, `seed ${seed}, stream ${stream}`);
  }
});

test("uniform draws equal sgdlab._rng.uniform_pm1", () => {
  for (const { seed, trial, counter, value } of fixture.stream.draws) {
    const key = core.streamKey(core.seedKey(seed, 0), trial);
    assert.ok(Object.is(core.uniformPm1(key, counter), value), `trial ${trial}, ${counter}`);
  }
});

test("spiky's value, slope, antiderivative and exact smoothing equal sgdlab's kernels", () => {
  for (const c of fixture.formulas) {
    const land = core.spiky(c);
    const s = c.s.map(number);
    const what = `beta ${c.beta}, period ${c.period}, growth ${c.growth}`;
    assertBitwise(s.map(land.value), c.value, `${what}: f`);
    assertBitwise(s.map(land.slope), c.slope, `${what}: f'`);
    assertBitwise(s.map(land.antiderivative), c.antiderivative, `${what}: F`);
    for (const [radius, values] of Object.entries(c.smoothed)) {
      assertBitwise(s.map((v) => land.smoothed(v, Number(radius))), values,
                    `${what}: g at radius ${radius}`);
    }
  }
});

test("random starts equal sgdlab.random_starts", () => {
  for (const { trials, span, seed, stage, x } of fixture.starts) {
    assertBitwise(core.randomStarts(trials, { span, seed, stage }), x, `seed ${seed}`);
  }
});

test("the named streams are sgdlab._rng.Stream's", () => {
  assert.deepEqual({ ...core.Stream }, fixture.streams);
});

test("random rows equal sgdlab.random_rows (one row, 2**32 - 1 rows, the largest seed)", () => {
  for (const { trials, n_points: nPoints, seed, rows } of fixture.rows) {
    assert.deepEqual(Array.from(core.randomRows(trials, { nPoints, seed })), rows,
                     `${trials} rows of ${nPoints}, seed ${seed}`);
  }
  assert.throws(() => core.randomRows(5, { nPoints: 0 }), /nPoints must be/);
  assert.throws(() => core.randomRows(5, { nPoints: 2 ** 32 }), /nPoints must be/);
  assert.throws(() => core.randomRows(0, { nPoints: 5 }), /trials must be/);
});

test("integers from 64 bits are floor(n z / 2**64), exactly (BigInt)", () => {
  const words = [[0, 0], [0xffffffff, 0xffffffff], [0x80000000, 0], [0xffffffff, 0],
                 [0x12345678, 0x9abcdef0], [0, 0xffffffff], [0xdeadbeef, 0xfeedface]];
  for (const n of [1, 2, 3, 2001, 2 ** 31, 2 ** 31 + 5, 2 ** 32 - 1]) {
    for (const [hi, lo] of words) {
      const z = (BigInt(hi) << 32n) | BigInt(lo);
      assert.equal(core.indexFromBits(hi, lo, n), Number((z * BigInt(n)) >> 64n), `${hi}, ${lo}, ${n}`);
    }
  }
});

test("SGD's final iterates equal sgdlab.run_sgd (GD, one trial, growth, divergence, 1000 x 20000)",
  () => {
    for (const r of fixture.runs) {
      const x = core.randomStarts(r.trials, { span: 3.0, seed: r.seed });
      core.sgdTrials(core.spiky(r), x, { ...r, key: core.seedKey(r.seed, core.Stream.SGD) });
      assertBitwise(x, r.x, `lr ${r.lr}, W ${r.noise}, ${r.trials} x ${r.steps}`);
    }
  });

test("spurious basins equal sgdlab.smoothing.in_spurious_basin", () => {
  for (const b of fixture.basins) {
    const land = core.spiky({ beta: 0.1, period: b.period, width: b.width });
    const flags = core.inSpuriousBasin(land, b.x.map(number), b);
    assert.deepEqual(Array.from(flags), b.spurious, `radius ${b.radius}`);
  }
});

test("the explorer's runs equal sgdlab.book.motivating_example.explorer_runs and explorer_rows", () => {
  for (const { settings, stages } of fixture.explorer) {
    const result = core.runExplorer(settings);
    assert.equal(result.stages.length, stages.length);
    result.stages.forEach((stage, k) => {
      const what = `${JSON.stringify(settings)}, stage ${k}`;
      assertBitwise(stage.x, stages[k].x, what);
      for (const name of ["within", "spurious", "spuriousInside", "radius", "noise", "diverged"]) {
        assert.ok(Object.is(stage[name], stages[k][name]), `${what}: ${name}`);
      }
    });
  }
});

test("the chunked run equals the run at once, and a cancelled run resolves to null", async () => {
  const settings = fixture.explorer[0].settings;
  const whole = core.runExplorer(settings);
  let calls = 0;
  const chunked = await core.runExplorerAsync(settings, { budgetMs: 1, onProgress: () => calls++ });
  assert.ok(calls > 1, `progress reported ${calls} time(s)`);
  chunked.stages.forEach((stage, k) => assertBitwise(stage.x, Array.from(whole.stages[k].x), `stage ${k}`));
  assert.equal(await core.runExplorerAsync(settings, { isCancelled: () => true }), null);
});

test("bad settings raise errors that name the setting", () => {
  const good = fixture.explorer[0].settings;
  for (const [name, value] of [["trials", 0], ["steps", 1.5], ["lr", 0], ["noise", -1],
                               ["seed", -1], ["restart", "sometimes"], ["stages", 0]]) {
    assert.throws(() => core.runExplorer({ ...good, [name]: value }), new RegExp(name));
  }
  assert.throws(() => core.spiky({ beta: 0.1, period: 0 }), /period/);
  assert.throws(() => core.spiky({ beta: 0.1, period: 0.1, growth: 1.5 }), /growth/);
  assert.throws(() => core.spiky({ beta: 0.1, period: 0.1, width: "wide" }), /width/);
  assert.throws(() => core.spiky({ beta: 0.1, period: 0.1, growth: 5, width: "sqrt" }), /growth/);
});
