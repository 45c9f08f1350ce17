/* sgdlab's core for the book's live explorers, in plain JavaScript: the counter-based random
 * stream (sgdlab/_rng.py), the spiky landscape's formulas (sgdlab/_builtin.py), SGD
 * (sgdlab/_kernels.py), random starts and rows (sgdlab.random_starts, sgdlab.random_rows), the
 * basins of the smoothed 1-D landscape (sgdlab/smoothing.py) and the motivating example's
 * explorer runs (sgdlab.book.motivating_example.explorer_runs). Every operation is done in the
 * same order as there, in IEEE doubles, so the results are bit for bit those of sgdlab
 * (tests/js/core.test.mjs).
 *
 * 64-bit integers are pairs of 32-bit halves (hi, lo): faster than BigInt.
 * Browser: the global `sgdlabLive`; node: `require('./core.js')`.
 */
(function (root) {
  "use strict";

  // -- 64-bit integers in 32-bit halves -------------------------------------------------------
  const GOLDEN = [0x9e3779b9, 0x7f4a7c15];
  const M1 = [0xbf58476d, 0x1ce4e5b9];
  const M2 = [0x94d049bb, 0x133111eb];
  const TWO32 = 4294967296;

  /** High 32 bits of the 64-bit product of two uint32 (exact in doubles: 16-bit pieces). */
  function mulhi32(a, b) {
    const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
    const w0 = a0 * b0;
    let t = a1 * b0 + (w0 >>> 16);
    const w1 = t & 0xffff, w2 = t >>> 16;
    t = a0 * b1 + w1;
    return a1 * b1 + w2 + (t >>> 16);
  }

  /** (hi, lo) * (bh, bl) mod 2**64, as [hi, lo]. */
  function mul64(hi, lo, bh, bl) {
    const h = (mulhi32(lo >>> 0, bl >>> 0) + Math.imul(hi, bl) + Math.imul(lo, bh)) >>> 0;
    return [h, Math.imul(lo, bl) >>> 0];
  }

  /** (ah, al) + (bh, bl) mod 2**64, as [hi, lo]. */
  function add64(ah, al, bh, bl) {
    const lo = (al >>> 0) + (bl >>> 0);
    return [((ah >>> 0) + (bh >>> 0) + (lo >= TWO32 ? 1 : 0)) >>> 0, lo >>> 0];
  }

  /** A non-negative integer below 2**53 as [hi, lo]. */
  function fromNumber(n) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`expected an integer in [0, 2**53), got ${n}`);
    }
    return [Math.floor(n / TWO32) >>> 0, n % TWO32 >>> 0];
  }

  /** splitmix64's finaliser (sgdlab._rng.mix64), as [hi, lo]. */
  function mix64(hi, lo) {
    lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
    hi = (hi ^ (hi >>> 30)) >>> 0;
    let z = mul64(hi, lo, M1[0], M1[1]);
    hi = z[0]; lo = z[1];
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    z = mul64(hi, lo, M2[0], M2[1]);
    hi = z[0]; lo = z[1];
    return [(hi ^ (hi >>> 31)) >>> 0, (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0];
  }

  /** Uniform number in [-1, 1) from the top 52 bits (sgdlab._rng.pm1_from_bits). */
  function pm1FromBits(hi, lo) {
    return ((hi >>> 0) * 1048576 + (lo >>> 12)) * 4.440892098500626e-16 - 1.0;  // 2**-51
  }

  /** The key of (seed, stream) (sgdlab._rng.seed_key); seed and stream below 2**53. */
  function seedKey(seed, stream) {
    const s = fromNumber(seed), st = fromNumber(stream);
    const inner = mix64((s[0] ^ M2[0]) >>> 0, (s[1] ^ M2[1]) >>> 0);
    const step = mul64(st[0], st[1], GOLDEN[0], GOLDEN[1]);
    const sum = add64(inner[0], inner[1], step[0], step[1]);
    return mix64(sum[0], sum[1]);
  }

  /** The key of one trial's stream (sgdlab._rng.stream_key). */
  function streamKey(key, trial) {
    const t = fromNumber(trial + 1);
    const step = mul64(t[0], t[1], GOLDEN[0], GOLDEN[1]);
    const sum = add64(key[0], key[1], step[0], step[1]);
    return mix64(sum[0], sum[1]);
  }

  /** The 64 bits at position `counter` of a trial's stream (sgdlab._rng.stream_bits). */
  function streamBits(trialKey, counter) {
    const c = fromNumber(counter + 1);
    const step = mul64(c[0], c[1], GOLDEN[0], GOLDEN[1]);
    const sum = add64(trialKey[0], trialKey[1], step[0], step[1]);
    return mix64(sum[0], sum[1]);
  }

  /** Position `counter` of a trial's stream (sgdlab._rng.uniform_pm1). */
  function uniformPm1(trialKey, counter) {
    const z = streamBits(trialKey, counter);
    return pm1FromBits(z[0], z[1]);
  }

  /** floor(n z / 2**64) for z = (hi, lo) and an integer 1 <= n < 2**32, exactly
   * (sgdlab._rng.index_from_bits): the high word of n hi, plus the carry of its low word and
   * the high word of n lo. */
  function indexFromBits(hi, lo, n) {
    const carry = (Math.imul(hi, n) >>> 0) + mulhi32(lo >>> 0, n) >= TWO32 ? 1 : 0;
    return mulhi32(hi >>> 0, n) + carry;
  }

  /** Integer uniform in [0, n) at position `counter` of a trial's stream
   * (sgdlab._rng.uniform_index). */
  function uniformIndex(trialKey, counter, n) {
    const z = streamBits(trialKey, counter);
    return indexFromBits(z[0], z[1], n);
  }

  /** The named streams (sgdlab._rng.Stream). */
  const STAGES = TWO32;
  const Stream = { SGD: 0, CONVOLVE: STAGES, PROJECTED_GRADIENT: STAGES + 1,
                   ONE_STEP: STAGES + 2, STARTS: STAGES + 3, ROWS: STAGES + 4,
                   BALL: STAGES + 5 };

  // -- the spiky landscape (sgdlab/_builtin.py) -------------------------------------------------
  /** a ** n by repeated multiplication (sgdlab._builtin._power). */
  function power(a, n) {
    let out = 1.0;
    for (let i = 0; i < Math.trunc(n); i++) out *= a;
    return out;
  }

  /** t ** n for an integer n >= 0 by squaring, as Numba's float ** int. */
  function intPower(t, n) {
    let r = 1.0, b = t;
    while (n) {
      if (n & 1) r *= b;
      b *= b;
      n >>= 1;
    }
    return r;
  }

  function bump(u) {
    const t = u - Math.floor(u);
    const s = t * (1.0 - t);
    return 16.0 * s * s;
  }

  function bumpSlope(u) {
    const t = u - Math.floor(u);
    return 32.0 * t * (1.0 - t) * (1.0 - 2.0 * t);
  }

  function bumpPartial(t, k) {
    return 16.0 * (intPower(t, k + 3) / (k + 3) - 2.0 * intPower(t, k + 4) / (k + 4)
                   + intPower(t, k + 5) / (k + 5));
  }

  function cellIntegral(m, e, t) {
    if (m === 0.0) return bumpPartial(t, e);
    let total = 0.0;
    let mPower = power(m, e);
    let binom = 1.0;
    let tPower = t * t * t;
    for (let i = 0; i < e + 1; i++) {
      const moment = 16.0 * tPower * (1.0 / (i + 3) - 2.0 * t / (i + 4) + t * t / (i + 5));
      total += binom * mPower * moment;
      mPower /= m;
      binom = binom * (e - i) / (i + 1.0);
      tPower *= t;
    }
    return total;
  }

  const BERNOULLI = [1.0, -0.5, 1.0 / 6.0, 0.0, -1.0 / 30.0, 0.0, 1.0 / 42.0, 0.0,
                     -1.0 / 30.0, 0.0, 5.0 / 66.0, 0.0, -691.0 / 2730.0, 0.0, 7.0 / 6.0];
  const LOOP_CELLS = 1024;

  function powerSum(n, j) {
    let total = 0.0;
    let binom = 1.0;
    for (let k = 0; k < j + 1; k++) {
      total += binom * BERNOULLI[k] * power(n, j + 1.0 - k);
      binom = binom * (j + 1.0 - k) / (k + 1.0);
    }
    return total / (j + 1.0);
  }

  function wholeCells(n, e) {
    const coef = new Float64Array(e + 1);
    let binom = 1.0;
    for (let j = 0; j < e + 1; j++) {
      const i = e - j;
      coef[j] = binom * 16.0 * (1.0 / (i + 3) - 2.0 / (i + 4) + 1.0 / (i + 5));
      binom = binom * (e - j) / (j + 1.0);
    }
    let total = 0.0;
    if (n >= LOOP_CELLS) {
      for (let j = 0; j < e + 1; j++) total += coef[j] * powerSum(n, j);
      return total;
    }
    for (let m = 0; m < Math.trunc(n); m++) {
      let value = coef[e];
      for (let j = e - 1; j > -1; j--) value = value * m + coef[j];
      total += value;
    }
    return total;
  }

  /** The spiky landscape f(s) = s^2 (1 + beta |s|^growth h(phi(s))) of
   * sgdlab.landscapes.spiky (dim 1), phi(s) = s / period (width "fixed") or
   * sqrt(|s|) / period (width "sqrt"): value, slope, antiderivative and exact smoothing.
   * Math.sqrt is correctly rounded (IEEE 754), as NumPy's: the formulas agree bit for bit. */
  function spiky({ beta, period, growth = 0, width = "fixed" }) {
    if (!(period > 0) || !Number.isFinite(beta) || beta < 0) {
      throw new RangeError(`spiky: period must be > 0 and beta >= 0, got ${period}, ${beta}`);
    }
    if (width !== "fixed" && width !== "sqrt") {
      throw new RangeError(`spiky: width must be "fixed" or "sqrt", got ${width}`);
    }
    const most = width === "fixed" ? 12 : 4;
    if (!Number.isInteger(growth) || growth < 0 || growth > most) {
      throw new RangeError(`spiky: growth must be an integer in 0..${most}, got ${growth}`);
    }
    const inv = 1.0 / period, wide = width === "sqrt";
    const value = wide
      ? (s) => s * s * (1.0 + beta * power(Math.abs(s), growth) * bump(Math.sqrt(Math.abs(s)) * inv))
      : (s) => s * s * (1.0 + beta * power(Math.abs(s), growth) * bump(s * inv));
    const slope = wide
      ? (s) => {
        const u = Math.sqrt(Math.abs(s)) * inv;
        const amp = beta * power(Math.abs(s), growth);
        return 2.0 * s + amp * s * ((2.0 + growth) * bump(u) + 0.5 * u * bumpSlope(u));
      }
      : (s) => {
        const u = s * inv;
        const amp = beta * power(Math.abs(s), growth);
        return 2.0 * s + amp * ((2.0 + growth) * s * bump(u) + s * s * bumpSlope(u) * inv);
      };
    const antiderivative = wide
      ? (s) => {
        const e = growth + 2, odd = 2 * e + 1;
        const u = Math.sqrt(Math.abs(s)) * inv;
        const n = Math.floor(u);
        const spikes = 2.0 * (wholeCells(n, odd) + cellIntegral(n, odd, u - n))
          / power(inv, 2.0 * e + 2.0);
        return s * s * s / 3.0 + Math.sign(s) * beta * spikes;
      }
      : (s) => {
        const e = growth + 2;
        const u = Math.abs(s) * inv;
        const n = Math.floor(u);
        const spikes = (wholeCells(n, e) + cellIntegral(n, e, u - n)) / power(inv, e + 1.0);
        return s * s * s / 3.0 + Math.sign(s) * beta * spikes;
      };
    const smoothed = (x, radius) => (radius === 0.0 ? value(x)
      : (antiderivative(x + radius) - antiderivative(x - radius)) / (2.0 * radius));
    return { beta, period, growth, width, inv, xStar: 0.0, value, slope, antiderivative,
             smoothed };
  }

  // -- SGD (sgdlab/_kernels.py, sgd_separable with dim 1) ---------------------------------------
  /** SGD in place on trials [first, last) of x (one coordinate each): x <- x - lr (f'(x) + W w),
   * w at positions 0 .. steps - 1 of trial i's stream of `key` (sgdlab.run_sgd). A trial that
   * leaves the floating-point range is left as it is (not finite), as in sgdlab. */
  function sgdTrials(land, x, { lr, noise, steps, key, first = 0, last = x.length }) {
    const beta = land.beta, inv = land.inv, flat = land.growth === 0 && land.width === "fixed";
    for (let i = first; i < last; i++) {
      const k = streamKey(key, i);
      let lane = add64(k[0], k[1], GOLDEN[0], GOLDEN[1]);
      let hi = lane[0], lo = lane[1];
      let s = x[i];
      for (let t = 0; t < steps; t++) {
        // z = mix64(hi, lo), inlined
        let zl = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
        let zh = (hi ^ (hi >>> 30)) >>> 0;
        let ph = (mulhi32(zl, M1[1]) + Math.imul(zh, M1[1]) + Math.imul(zl, M1[0])) >>> 0;
        let pl = Math.imul(zl, M1[1]) >>> 0;
        zl = (pl ^ ((pl >>> 27) | (ph << 5))) >>> 0;
        zh = (ph ^ (ph >>> 27)) >>> 0;
        ph = (mulhi32(zl, M2[1]) + Math.imul(zh, M2[1]) + Math.imul(zl, M2[0])) >>> 0;
        pl = Math.imul(zl, M2[1]) >>> 0;
        zh = (ph ^ (ph >>> 31)) >>> 0;
        zl = (pl ^ ((pl >>> 31) | (ph << 1))) >>> 0;
        const w = (zh * 1048576 + (zl >>> 12)) * 4.440892098500626e-16 - 1.0;
        let g;
        if (flat) {
          const u = s * inv;
          const a = u - Math.floor(u);
          const b = a * (1.0 - a);
          g = 2.0 * s + beta * (2.0 * s * (16.0 * b * b)
                                + s * s * (32.0 * a * (1.0 - a) * (1.0 - 2.0 * a)) * inv);
        } else {
          g = land.slope(s);
        }
        s = s - lr * (g + noise * w);
        // counter += GOLDEN
        const nl = lo + GOLDEN[1];
        hi = (hi + GOLDEN[0] + (nl >= TWO32 ? 1 : 0)) >>> 0;
        lo = nl >>> 0;
      }
      x[i] = s;
    }
    return x;
  }

  /** Starting points uniform in [-span, span) (sgdlab.random_starts, dim 1). */
  function randomStarts(trials, { span, seed = 0, stage = 0 }) {
    const key = seedKey(seed, Stream.STARTS);
    const out = new Float64Array(trials);
    for (let i = 0; i < trials; i++) out[i] = span * uniformPm1(streamKey(key, i), stage);
    return out;
  }

  /** Row indices uniform in [0, nPoints) (sgdlab.random_rows): position 0 of trial i's
   * stream Stream.ROWS of `seed`. */
  function randomRows(trials, { nPoints, seed = 0 }) {
    if (!Number.isInteger(trials) || trials < 1) {
      throw new RangeError(`trials must be an integer >= 1, got ${trials}`);
    }
    if (!Number.isInteger(nPoints) || nPoints < 1 || nPoints >= TWO32) {
      throw new RangeError(`nPoints must be an integer >= 1 and < 2**32, got ${nPoints}`);
    }
    const key = seedKey(seed, Stream.ROWS);
    const out = new Float64Array(trials);
    for (let i = 0; i < trials; i++) out[i] = uniformIndex(streamKey(key, i), 0, nPoints);
    return out;
  }

  // -- basins of the smoothed landscape (sgdlab/smoothing.py) -----------------------------------
  /** numpy.linspace(a, b, n). */
  function linspace(a, b, n) {
    const out = new Float64Array(n);
    if (n === 1) { out[0] = a; return out; }
    const step = (b - a) / (n - 1);
    for (let i = 0; i < n; i++) out[i] = i * step + a;
    if (n > 1) out[n - 1] = b;
    return out;
  }

  /** For each grid index, the index of the local minimum that steepest descent reaches. */
  function gridDescent(v) {
    const n = v.length;
    let step = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const left = i > 0 ? v[i - 1] : Infinity, right = i < n - 1 ? v[i + 1] : Infinity;
      step[i] = left < v[i] && left <= right ? i - 1 : (right < v[i] ? i + 1 : i);
    }
    const rounds = Math.ceil(Math.log2(n)) + 1;
    for (let r = 0; r < rounds; r++) {
      const next = new Int32Array(n);
      for (let i = 0; i < n; i++) next[i] = step[step[i]];
      step = next;
    }
    return step;
  }

  /** Round half to even (numpy.rint). */
  function rint(x) {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  /** The basins of g on a grid (sgdlab.smoothing.basins_1d): a function of x giving the
   * minimiser whose basin holds x (NaN off the grid or not finite). */
  function basins(land, { radius, span, nPoints }) {
    const grid = linspace(-span, span, nPoints);
    const values = new Float64Array(nPoints);
    for (let i = 0; i < nPoints; i++) values[i] = land.smoothed(grid[i], radius);
    const target = gridDescent(values);
    return (x) => {
      if (!(Number.isFinite(x) && Math.abs(x) <= span)) return NaN;
      const j = Math.min(Math.max(rint((x + span) / (2 * span) * (nPoints - 1)), 0), nPoints - 1);
      return grid[target[j]];
    };
  }

  /** Per point: in the basin of a spurious minimum of g (sgdlab.smoothing.in_spurious_basin)? */
  function inSpuriousBasin(land, x, { radius, span, nPoints }) {
    const minimum = basins(land, { radius, span, nPoints });
    const home = minimum(land.xStar);
    const tolerance = 2 * span / (nPoints - 1);
    const out = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.abs(minimum(x[i]) - home) <= tolerance ? 0 : 1;
    return out;
  }

  // -- the motivating example's explorer (sgdlab.book.motivating_example.explorer_runs) ------------------
  const RESTARTS = ["new", "continue"];

  function checkSettings(s) {
    const whole = (name, low, high) => {
      if (!Number.isInteger(s[name]) || s[name] < low || s[name] > high) {
        throw new RangeError(`${name} must be an integer in [${low}, ${high}], got ${s[name]}`);
      }
    };
    whole("trials", 1, 1e6); whole("steps", 0, 1e7); whole("stages", 1, 32);
    whole("seed", 0, Number.MAX_SAFE_INTEGER);
    if (!(s.lr > 0)) throw new RangeError(`lr must be > 0, got ${s.lr}`);
    if (!(s.noise >= 0)) throw new RangeError(`noise must be >= 0, got ${s.noise}`);
    if (!RESTARTS.includes(s.restart)) {
      throw new RangeError(`restart must be one of ${RESTARTS}, got ${s.restart}`);
    }
  }

  /** The stages of a run: [{lr, noise, steps, span, radius}], the noise halving. */
  function explorerStages(s) {
    const out = [];
    for (let k = 0; k < s.stages; k++) {
      const noise = s.noise / 2 ** k;
      const span = s.restart === "new" ? s.span / 2 ** k : s.span;
      out.push({ lr: s.lr, noise, steps: s.steps, span, radius: s.lr * noise });
    }
    return out;
  }

  /** What the explorer prints for one stage (sgdlab.book.motivating_example.explorer_rows). */
  function stageNumbers(land, s, stage, x) {
    const spurious = inSpuriousBasin(land, x, { radius: stage.radius, ...s.grid });
    let within = 0, bad = 0, badInside = 0, diverged = 0;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) { diverged++; }
      else if (Math.sqrt(x[i] * x[i]) <= s.inner) within++;
      bad += spurious[i];
      if (spurious[i] && Math.abs(x[i]) <= s.inner) badInside++;
    }
    const n = x.length;
    return { ...stage, x, within: within / n, spurious: bad / n, spuriousInside: badInside / n,
             diverged };
  }

  const DEFAULTS = { growth: 0, width: "fixed", seed: 0, stages: 1, restart: "new", inner: 1.5, span: 3.0,
                     grid: { span: 3.5, nPoints: 7001 } };

  /** A generator of the work of a run, `chunk.trials` trials at a time (read before each
   * chunk, so the caller can resize it): it yields the fraction done and returns the result. */
  function* explorerWork(settings, chunk) {
    const s = { ...DEFAULTS, ...settings };
    checkSettings(s);
    const land = spiky(s);
    const stages = explorerStages(s);
    const total = stages.reduce((sum, st) => sum + st.steps * s.trials, 0) || 1;
    let done = 0, x = null;
    const out = [];
    for (let k = 0; k < stages.length; k++) {
      const st = stages[k];
      x = k === 0 || s.restart === "new"
        ? randomStarts(s.trials, { span: st.span, seed: s.seed, stage: k })
        : Float64Array.from(x);
      const key = seedKey(s.seed, Stream.SGD + k);
      for (let first = 0, last = 0; first < s.trials; first = last) {
        last = Math.min(first + chunk.trials, s.trials);
        sgdTrials(land, x, { ...st, key, first, last });
        done += st.steps * (last - first);
        yield done / total;
      }
      out.push(stageNumbers(land, s, st, x));
    }
    return { settings: s, stages: out };
  }

  /** Run the explorer's settings at once (tests, benchmarks). */
  function runExplorer(settings) {
    const started = now();
    const work = explorerWork(settings, { trials: Infinity });
    let step = work.next();
    while (!step.done) step = work.next();
    return { ...step.value, ms: now() - started };
  }

  /** Run it in chunks of about `budgetMs`, yielding to the page between them: resolves to the
   * result, or null when `isCancelled()` turned true (a newer run started). The chunk's number
   * of trials follows the speed measured on the previous chunk. The result's `ms` is the time
   * spent computing, `wallMs` the time from start to end (the page's own work included). */
  function runExplorerAsync(settings, { onProgress = () => {}, isCancelled = () => false,
                                        budgetMs = 30 } = {}) {
    const started = now();
    let busy = 0;
    const chunk = { trials: Math.max(1, Math.floor(budgetMs * 20000 / Math.max(1, settings.steps || 1))) };
    const work = explorerWork(settings, chunk);
    return new Promise((resolve, reject) => {
      const pump = () => {
        if (isCancelled()) { resolve(null); return; }
        const until = now() + budgetMs;
        try {
          do {
            const before = now(), trials = chunk.trials;
            const step = work.next();
            const ms = now() - before;
            busy += ms;
            if (step.done) {
              resolve({ ...step.value, ms: busy, wallMs: now() - started });
              return;
            }
            onProgress(step.value);
            if (ms > 0) chunk.trials = Math.max(1, Math.min(4 * trials, Math.floor(trials * budgetMs / ms)));
          } while (now() + 0.5 * budgetMs < until);
        } catch (err) { reject(err); return; }
        setTimeout(pump, 0);
      };
      pump();
    });
  }

  function now() {
    return typeof performance !== "undefined" ? performance.now() : Date.now();
  }

  const api = {
    mix64, seedKey, streamKey, streamBits, uniformPm1, pm1FromBits, indexFromBits, uniformIndex,
    Stream, intPower, spiky, sgdTrials, randomStarts, randomRows, linspace, rint, basins, inSpuriousBasin, explorerStages, runExplorer,
    runExplorerAsync, DEFAULTS, RESTARTS,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.sgdlabLive = Object.assign(root.sgdlabLive || {}, api);
  }
})(typeof self !== "undefined" ? self : this);
