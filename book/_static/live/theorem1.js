/* sgdlabLive.theorem1: Theorem 1 computed in the reader's browser, on the rippled quadratic
   f(s) = a s^2 / 2 + A sin^2(k s / 2) of chapter main-theorem (sgdlab.landscapes.ripple, 1-D).

   Move the step size lr and the noise bound W: the explorer measures L (the largest |f''| on
   the domain widened by the steps and the noise, sgdlab.theory.smoothness), c of Assumption 1
   from the exact smoothed gradient (sgdlab.theory.one_point_convexity with samples=None),
   Theorem 1's lambda, b, 20b/lambda, T1 and the step-size condition (sgdlab.theory.theorem1),
   then runs the trials of SGD for T1 steps (at most max_steps) with sgdlab's noise stream
   (core.js) from the starting points that sgdlab.book.main_theorem.theorem1_measurements draws:
   rows of the domain, drawn here from sgdlab's stream as sgdlab.random_rows draws them (core.js),
   from the seed and the trials of the config that sgdlab.book.main_theorem.live_theorem1 writes,
   with the controls' limits. Left: the Assumption 1 ratio over the domain with c; right: the
   distribution of |y_T - x*|^2 against 2b/lambda and 20b/lambda; below, the numbers and a
   sentence chosen by them.

   Every formula follows sgdlab's operation order; Math.sin / Math.cos may differ from the C
   library's by an ulp, so the numbers agree with sgdlab to rounding (tests/js/theorem1.test.mjs,
   tests/test_live_theorem1.py). In node the formulas are module.exports; in the browser
   sgdlabLive.theorem1, and every div.sgdlab-live[data-explorer="theorem1"] is mounted when the
   page has loaded (the static picture inside stays if mounting fails). Numbers are written by
   ui.js's formatNumber. */
(function (root) {
  'use strict';

  var NODE = typeof module === 'object' && module.exports;
  var core = NODE ? require('./core.js') : root.sgdlabLive;
  var ui = NODE ? require('./ui.js') : (root.sgdlabLive || {}).ui;

  // -- the ripple (sgdlab/_builtin.py: ripple_value, ripple_slope1) --------------------------
  /** The landscape's formulas from the config's {a, amplitude, k, x_star}. */
  function ripple(p) {
    var a = p.a, A = p.amplitude, k = p.k;
    return {
      a: a, amplitude: A, k: k, xStar: p.x_star || 0.0,
      value: function (s) { return 0.5 * a * s * s + 0.5 * A * (1.0 - Math.cos(k * s)); },
      slope: function (s) { return a * s + 0.5 * A * k * Math.sin(k * s); }
    };
  }

  /** The domain's points: numpy.linspace(low, high, n_points), or the points given. */
  function domainPoints(domain) {
    if (domain.points) return Float64Array.from(domain.points);
    return core.linspace(domain.low, domain.high, domain.n_points);
  }

  // -- Assumption 1 (sgdlab.theory.one_point_convexity, samples=None) -------------------------
  /** Per point y = x - lr f'(x), the ratio <-g'(y), x* - y> / |x* - y|^2 (NaN within
      `exclude` of x*), and c = the smallest ratio, where, and how many ratios are <= 0. */
  function assumption(land, x, lr, noise) {
    var n = x.length, radius = lr * noise, y = new Float64Array(n), dist = new Float64Array(n);
    var largest = 0;
    for (var i = 0; i < n; i++) {
      y[i] = x[i] - lr * land.slope(x[i]);
      var v = land.xStar - y[i];
      dist[i] = v * v;
      if (dist[i] > largest || i === 0) largest = dist[i];
    }
    var exclude = 1e-6 * Math.sqrt(largest), ratios = new Float64Array(n);
    var out = {y: y, ratios: ratios, radius: radius, c: NaN, at: -1, violations: 0, nPoints: 0};
    for (var j = 0; j < n; j++) {
      var d = dist[j] > exclude * exclude ? dist[j] : 0.0;
      var w = land.xStar - y[j];
      var inner = -(smoothedSlope(land, y[j], radius) * w);
      ratios[j] = d > 0 ? inner / d : NaN;
      if (d > 0) out.nPoints++;
      if (ratios[j] <= 0) out.violations++;
      if (ratios[j] < out.c || (out.at < 0 && ratios[j] === ratios[j])) {
        out.c = ratios[j]; out.at = j;
      }
    }
    return out;
  }

  /** The exact slope of f smoothed over [-r, r] (sgdlab._kernels.smoothed_grad_separable). */
  function smoothedSlope(land, y, radius) {
    if (radius === 0.0) return land.slope(y);
    return (land.value(y + radius) - land.value(y - radius)) / (2.0 * radius);
  }

  // -- L (sgdlab.theory.smoothness, separable; padded as sgdlab.theory.measure) --------------
  /** The largest central-difference |f''| on a grid of 20,001 values over the domain's range
      widened by `pad`, and on the domain's own points. */
  function smoothness(land, x, pad) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < x.length; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
    var grid = core.linspace(lo - pad, hi + pad, 20001), best = {L: -Infinity, at: NaN};
    [grid, x].forEach(function (values) {
      for (var k = 0; k < values.length; k++) {
        var s = values[k], h = 1e-5 * Math.max(1.0, Math.abs(s));
        var curvature = Math.abs((land.slope(s + h) - land.slope(s - h)) / (2 * h));
        if (curvature > best.L || (curvature === best.L && s < best.at)) best = {L: curvature, at: s};
      }
    });
    return best;
  }

  /** The pad of sgdlab.theory.measure: the largest step |y - x| plus the radius lr W. */
  function measurePad(x, check) {
    var pad = 0;
    for (var i = 0; i < x.length; i++) pad = Math.max(pad, Math.abs(check.y[i] - x[i]));
    return pad + check.radius;
  }

  // -- Theorem 1 (sgdlab.theory.theorem1, Theorem1) ------------------------------------------
  /** Theorem 1's bounds on lr, lambda, b, 20b/lambda and T1 for lr, L, c, r and
      dist0Sq = max |y_0 - x*|^2. */
  function theorem1(lr, L, c, r, dist0Sq) {
    var bounds = {'1/(2L)': 1.0 / (2.0 * L), 'c/L^2': c / (L * L),
                  '1/(2c)': c > 0 ? 1.0 / (2.0 * c) : Infinity};
    var names = Object.keys(bounds);
    var lrMax = Math.min.apply(null, names.map(function (k) { return bounds[k]; }));
    var lam = 2 * lr * c - (lr * lr) * (L * L);
    var b = (lr * lr) * (r * r) * ((1 + lr * L) * (1 + lr * L));
    return {
      bounds: bounds, lrMax: lrMax, lam: lam, b: b,
      stepSizeOk: c > 0 && lr < lrMax,
      failing: c > 0 ? names.filter(function (k) { return !(lr < bounds[k]); }).join(', ') : 'c <= 0',
      radiusSq: lam > 0 ? 20.0 * (b / lam) : Infinity,
      T1: firstTime(lam, b, dist0Sq)
    };
  }

  /** T1 = log(lambda d0 / b) / lambda (0 when the log is negative; inf when b = 0; NaN when
      lambda <= 0): Theorem1.T1. */
  function firstTime(lam, b, dist0Sq) {
    if (!(lam > 0)) return NaN;
    if (b === 0) return dist0Sq > 0 ? Infinity : 0.0;
    var ratio = lam * dist0Sq / b;
    return ratio > 0 ? Math.max(Math.log(ratio), 0.0) / lam : 0.0;
  }

  /** The steps SGD runs: T1 rounded up (at least 1), or maxSteps when T1 is undefined or
      larger (theorem1_measurements). */
  function stepsFor(T1, maxSteps) {
    return isFinite(T1) ? Math.min(Math.max(Math.ceil(T1), 1), maxSteps) : maxSteps;
  }

  // -- the measured side ----------------------------------------------------------------------
  /** |x - lr f'(x) - x*|^2 (sgdlab.theory.y_distance_sq), inf where not finite. */
  function yDistanceSq(land, x, lr) {
    var e = x - lr * land.slope(x) - land.xStar, d = e * e;
    return isFinite(d) ? d : Infinity;
  }

  /** numpy.quantile(values, q) (method "linear"), NaN (among infs) as inf. */
  function quantile(values, q) {
    var sorted = Float64Array.from(values).sort(), n = sorted.length;
    var virtual = (n - 1) * q, prev = Math.floor(virtual), next = prev + 1;
    if (virtual >= n - 1) prev = next = n - 1;
    var gamma = virtual - prev, a = sorted[prev], b = sorted[next], diff = b - a;
    var value = gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
    return value === value ? value : Infinity;
  }

  /** What theorem1_measurements reports about the final iterates. */
  function outcome(land, x, lr, q, radiusSq) {
    var n = x.length, dist = new Float64Array(n), within = 0, diverged = 0;
    for (var i = 0; i < n; i++) {
      if (!isFinite(x[i])) diverged++;
      dist[i] = isFinite(x[i]) ? yDistanceSq(land, x[i], lr) : Infinity;
      if (dist[i] <= radiusSq) within++;
    }
    return {dist_sq: dist, measured: quantile(dist, q), diverged: diverged,
            share_within: isFinite(radiusSq) ? within / n : NaN};
  }

  /** The rows of the domain x that the trials start from (theorem1_measurements: sgdlab.random_rows
      of the seed). */
  function startRows(x, settings) {
    return core.randomRows(settings.trials, {nPoints: x.length, seed: settings.seed});
  }

  /** Everything before SGD: L, c, lambda, b, 20b/lambda, T1, steps (sgdlab.theory.measure and
      theorem1_measurements, same names), and the rows the trials start from. */
  function constants(config, settings) {
    var land = ripple(config.landscape), x = domainPoints(config.domain);
    var lr = settings.lr, noise = settings.noise;
    var check = assumption(land, x, lr, noise);
    if (check.at < 0) throw new RangeError('every point of the domain maps to y at x*: c is undefined');
    var smooth = smoothness(land, x, measurePad(x, check));
    var starts = startRows(x, settings), dist0 = -Infinity;
    starts.forEach(function (k) { dist0 = Math.max(dist0, yDistanceSq(land, x[k], lr)); });
    var t = theorem1(lr, smooth.L, check.c, noise * Math.sqrt(1), dist0);
    return {
      lr: lr, noise: noise, radius: check.radius, L: smooth.L, L_at: smooth.at, c: check.c,
      c_at_y: check.y[check.at], violations: check.violations, n_points: check.nPoints,
      r: noise * Math.sqrt(1), lam: t.lam, b: t.b, radius_sq: t.radiusSq, T1: t.T1,
      dist0_sq: dist0, steps: stepsFor(t.T1, settings.max_steps), lr_bounds: t.bounds,
      lr_max: t.lrMax, step_size_ok: t.stepSizeOk, failing: t.failing,
      quantile: settings.quantile, check: check, land: land, domain: x, starts: starts
    };
  }

  // -- a run, one chunk of trials at a time (as core.js's explorerWork) ---------------------
  /** Yields the fraction done; returns the numbers. */
  function* work(config, settings, chunk) {
    var n = constants(config, settings), trials = n.starts.length;
    var x = Float64Array.from(n.starts, function (k) { return n.domain[k]; });
    var key = core.seedKey(settings.seed, core.Stream.SGD);
    yield 0;
    for (var first = 0; first < trials; first += chunk) {
      var last = Math.min(first + chunk, trials);
      core.sgdTrials(n.land, x, {lr: n.lr, noise: n.noise, steps: n.steps, key: key,
                                 first: first, last: last});
      yield last / trials;
    }
    var out = Object.assign(n, outcome(n.land, x, n.lr, n.quantile, n.radius_sq));
    out.x = x;
    out.sentence = sentence(out);
    return out;
  }

  /** The settings are numbers of the right kind, trials and max_steps within the config's
      limits (sgdlab.book.main_theorem.LIVE_LIMITS). */
  function checkSettings(s, limits) {
    if (!(typeof s.lr === 'number' && s.lr > 0 && isFinite(s.lr))) {
      throw new RangeError('lr must be a finite number > 0, got ' + s.lr);
    }
    if (!(typeof s.noise === 'number' && s.noise >= 0 && isFinite(s.noise))) {
      throw new RangeError('noise must be a finite number >= 0, got ' + s.noise);
    }
    ['trials', 'max_steps'].forEach(function (name) {
      if (!(Number.isInteger(s[name]) && s[name] >= 1 && s[name] <= limits[name])) {
        throw new RangeError(name + ' must be an integer in [1, ' + limits[name] + '], got ' + s[name]);
      }
    });
  }

  /** The explorer's numbers at `settings` ({lr, noise, trials, max_steps, quantile, seed}), at
      once. */
  function compute(config, settings) {
    var s = Object.assign({}, config.settings, settings), started = now();
    checkSettings(s, config.limits);
    var it = work(config, s, Infinity), step = it.next();
    while (!step.done) step = it.next();
    step.value.ms = now() - started;
    return step.value;
  }

  /** The same in chunks of about `budgetMs`, yielding to the page between them; resolves to
      the numbers, or null when isCancelled() turned true (a newer run started). */
  function computeAsync(config, settings, opts) {
    var o = Object.assign({onProgress: function () {}, isCancelled: function () { return false; },
                           budgetMs: 30}, opts || {});
    var s = Object.assign({}, config.settings, settings), started = now();
    return new Promise(function (resolve, reject) {
      var it;
      try {
        checkSettings(s, config.limits);
        it = work(config, s, Math.max(1, Math.floor(o.budgetMs * 10000 / s.max_steps)));
      } catch (err) { reject(err); return; }
      function pump() {
        if (o.isCancelled()) { resolve(null); return; }
        var until = now() + o.budgetMs;
        try {
          var step;
          do {
            step = it.next();
            if (step.done) { step.value.ms = now() - started; resolve(step.value); return; }
            o.onProgress(step.value);
          } while (now() < until);
        } catch (err) { reject(err); return; }
        setTimeout(pump, 0);
      }
      pump();
    });
  }

  function now() {
    return typeof performance !== 'undefined' ? performance.now() : Date.now();
  }

  // -- words chosen by the numbers ------------------------------------------------------------
  /** A number as the explorer writes it: 3 significant digits (ui.js). */
  function show(value) {
    return ui.formatNumber(value, 3);
  }

  function percent(share) {
    return ui.percent(share, 3);
  }

  /** The sentence for the numbers `n`: which hypothesis fails, or what SGD did against the
      bound. */
  function sentence(n) {
    var run = 'SGD ran ' + n.steps + (n.steps === 1 ? ' step' : ' steps') + (isFinite(n.T1) ? ' (T\u2081 rounded up' +
      (n.steps < Math.ceil(n.T1) ? ', capped' : '') + ')' : ' (T\u2081 is ' +
      (n.T1 === Infinity ? 'infinite' : 'undefined') + ': the cap)');
    var diverged = n.diverged ? '; ' + n.diverged + ' trials diverged' : '';
    if (!(n.c > 0)) {
      return 'Assumption 1 fails on the domain at the radius \u03b7W = ' + show(n.radius) +
        ': c = ' + show(n.c) + ' \u2264 0 (' + n.violations + ' of ' + n.n_points +
        ' points), so Theorem 1 says nothing here. ' + run + diverged + '.';
    }
    var bound = isFinite(n.radius_sq)
      ? percent(n.share_within) + ' of the trials end within 20b/\u03bb = ' + show(n.radius_sq)
      : 'no bound to compare with (\u03bb = ' + show(n.lam) + ' \u2264 0)';
    if (!n.step_size_ok) {
      return 'Assumption 1 holds (c = ' + show(n.c) + '), but the step-size condition fails (\u03b7 = ' +
        show(n.lr) + ' is not below ' + n.failing + '), so the theorem does not apply. ' + run +
        ': ' + bound + diverged + '.';
    }
    if (n.b === 0) {
      return 'Every hypothesis holds, and without noise b = 0: the bound 20b/\u03bb is 0 and T\u2081 ' +
        'infinite. ' + run + ': ' + bound + diverged + '.';
    }
    var verdict = n.share_within >= 0.9 ? 'at least' : 'fewer than';
    return 'Every hypothesis holds (\u03b7 < ' + show(n.lr_max) + '): Step 2 of the proof puts ' +
      '|y_T\u2081 \u2212 x*|\u00b2 within 20b/\u03bb with probability at least 0.9. ' + run + ': ' + bound + ', ' +
      verdict + ' the 90% the proof promises' + diverged + '.';
  }

  var formulas = {
    ripple: ripple, domainPoints: domainPoints, assumption: assumption,
    smoothedSlope: smoothedSlope, smoothness: smoothness, measurePad: measurePad,
    theorem1: theorem1, firstTime: firstTime, stepsFor: stepsFor, yDistanceSq: yDistanceSq,
    quantile: quantile, outcome: outcome, constants: constants, compute: compute,
    computeAsync: computeAsync, sentence: sentence, startRows: startRows
  };

  if (NODE) {
    module.exports = formulas;
    return;
  }

  var live = root.sgdlabLive = root.sgdlabLive || {};

  // -- the page -------------------------------------------------------------------------------
  var SELECTOR = 'div.sgdlab-live[data-explorer="theorem1"]';
  var HEIGHT = 260;              // CSS pixels of a panel's canvas
  var DEBOUNCE_MS = 150;         // a burst of slider moves starts one run
  var COLOR_VARS = {function: ['--sgdlab-live-function', '#1f4e79'],
                    alert: ['--sgdlab-live-alert', '#c0392b']};

  /** A plot frame: x and y maps from data to CSS pixels inside the margins. */
  function frame(width, height, xr, yr, xLog) {
    var left = 52, right = 10, top = 10, bottom = 34;
    var tx = xLog ? Math.log10 : function (v) { return v; };
    var x0 = tx(xr[0]), x1 = tx(xr[1]);
    return {
      left: left, right: width - right, top: top, bottom: height - bottom, width: width, height: height,
      X: function (v) { return left + (tx(v) - x0) / (x1 - x0) * (width - left - right); },
      Y: function (v) { return top + (yr[1] - v) / (yr[1] - yr[0]) * (height - top - bottom); }
    };
  }

  function axes(ctx, f, col, xTicks, yTicks, labels) {
    ctx.strokeStyle = col.border; ctx.lineWidth = 1;
    ctx.strokeRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
    ctx.fillStyle = col.text; ctx.font = '11px sans-serif'; ctx.textAlign = 'center';
    xTicks.forEach(function (t) { ctx.fillText(show(t), f.X(t), f.bottom + 13); });
    ctx.fillText(labels[0], (f.left + f.right) / 2, f.height - 4);
    ctx.textAlign = 'right';
    yTicks.forEach(function (t) { ctx.fillText(show(t), f.left - 4, f.Y(t) + 4); });
    ctx.save(); ctx.translate(11, (f.top + f.bottom) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center'; ctx.fillText(labels[1], 0, 0); ctx.restore();
    ctx.textAlign = 'left';
  }

  function clipTo(ctx, f) {
    ctx.save(); ctx.beginPath(); ctx.rect(f.left, f.top, f.right - f.left, f.bottom - f.top); ctx.clip();
  }

  /** Left: the Assumption 1 ratio against y over the domain, with 0 and c
      (sgdlab.book.main_theorem._plot_assumption). */
  function drawAssumption(ctx, width, height, n, col) {
    var check = n.check, order = [], kept = [];
    for (var i = 0; i < check.y.length; i++) if (isFinite(check.ratios[i])) order.push(i);
    order.sort(function (a, b) { return check.y[a] - check.y[b]; });
    order.forEach(function (i) { kept.push(check.ratios[i]); });
    if (!order.length) return;
    var top = quantile(kept, 0.99), low = Math.min(n.c, 0.0), pad = 0.1 * (top - low + 1e-12);
    var xr = [check.y[order[0]], check.y[order[order.length - 1]]];
    if (!(xr[1] > xr[0])) xr = [xr[0] - 1, xr[0] + 1];
    var f = frame(width, height, xr, [low - pad, top + pad], false);
    axes(ctx, f, col, ui.ticks(xr[0], xr[1], 6), ui.ticks(low - pad, top + pad, 5),
         ['y = x \u2212 \u03b7 f\u2032(x)', '\u27e8\u2212g\u2032(y), x* \u2212 y\u27e9 / |x* \u2212 y|\u00b2']);
    clipTo(ctx, f);
    ui.line(ctx, [[f.left, f.Y(0)], [f.right, f.Y(0)]], col.muted, [], 0.8);
    ui.line(ctx, order.map(function (i) { return [f.X(check.y[i]), f.Y(check.ratios[i])]; }), col.function, [], 1);
    ui.line(ctx, [[f.left, f.Y(n.c)], [f.right, f.Y(n.c)]], col.alert, [6, 4], 1.4);
    ctx.restore();
    ui.legend(ctx, f, [['ratio over the domain', col.function, []], ['c = ' + show(n.c), col.alert, [6, 4]]], col, 'lower right');
  }

  /** The x range of the right panel: the finite distances and the lines drawn (log scale). */
  function radiusRange(sorted, n) {
    var values = Array.prototype.slice.call(sorted).concat([n.measured, n.radius_sq, 0.1 * n.radius_sq])
      .filter(function (v) { return isFinite(v) && v > 0; });
    if (!values.length) return [1e-3, 1];
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (!(hi > lo)) { lo /= 10; hi *= 10; }
    var span = Math.log10(hi / lo);
    return [lo / Math.pow(10, 0.05 * span), hi * Math.pow(10, 0.05 * span)];
  }

  function logTicks(xr) {
    var out = [], a = Math.ceil(Math.log10(xr[0])), b = Math.floor(Math.log10(xr[1]));
    var every = Math.max(1, Math.ceil((b - a + 1) / 6));
    for (var p = a; p <= b; p += every) out.push(Math.pow(10, p));
    return out;
  }

  /** Right: the share of trials with |y_T - x*|^2 up to each value, against 2b/lambda and
      20b/lambda and the measured quantile (sgdlab.book.main_theorem._plot_radius). */
  function drawRadius(ctx, width, height, n, col) {
    var sorted = Float64Array.from(n.dist_sq).filter(isFinite).sort(), total = n.dist_sq.length;
    var xr = radiusRange(sorted, n), f = frame(width, height, xr, [0, 1.02], true);
    axes(ctx, f, col, logTicks(xr), [0, 0.2, 0.4, 0.6, 0.8, 1], ['|y_T \u2212 x*|\u00b2 (log)', 'share of trials']);
    clipTo(ctx, f);
    var points = [[f.left, f.Y(0)]];
    for (var i = 0; i < sorted.length; i++) {
      var px = f.X(Math.max(sorted[i], xr[0]));
      points.push([px, f.Y(i / total)], [px, f.Y((i + 1) / total)]);
    }
    if (sorted.length) points.push([f.right, f.Y(sorted.length / total)]);
    ui.line(ctx, points, col.function, [], 1.4);
    var marks = [[n.quantile * 100 + '% quantile ' + show(n.measured), n.measured, col.alert, []]];
    if (isFinite(n.radius_sq)) {
      marks.push(['2b/\u03bb = ' + show(0.1 * n.radius_sq), 0.1 * n.radius_sq, col.muted, [2, 3]],
                 ['20b/\u03bb = ' + show(n.radius_sq), n.radius_sq, col.text, [6, 4]]);
    }
    marks.forEach(function (m) { if (isFinite(m[1]) && m[1] > 0) ui.line(ctx, [[f.X(m[1]), f.top], [f.X(m[1]), f.bottom]], m[2], m[3], 1.2); });
    ctx.restore();
    ui.legend(ctx, f, [['SGD, measured', col.function, []]].concat(marks.map(function (m) { return [m[0], m[2], m[3]]; })), col, 'upper left');
  }

  // -- captions, numbers, sentence ------------------------------------------------------------
  function leftCaption(n) {
    return 'Assumption 1 at \u03b7 = ' + show(n.lr) + ', W = ' + show(n.noise) + ' (radius \u03b7W = ' +
      show(n.radius) + '): c = ' + show(n.c) + (n.violations ? ', ' + n.violations + ' points \u2264 0' : '');
  }

  function rightCaption(n) {
    var share = isFinite(n.radius_sq) ? percent(n.share_within) + ' within 20b/\u03bb' : 'no bound (\u03bb \u2264 0)';
    return n.dist_sq.length + ' trials, T = ' + n.steps + ' steps: ' + share +
      (n.diverged ? ' (' + n.diverged + ' diverged)' : '');
  }

  var ROWS = [
    ['L', 'L (largest |f\u2033| on the domain, widened)', 'L'],
    ['c', 'c (Assumption 1)', 'c'], ['r', 'r = W', 'r'],
    ['lr_max', 'min{1/2L, c/L\u00b2, 1/2c}', 'lr_max'], ['lam', '\u03bb = 2\u03b7c \u2212 \u03b7\u00b2L\u00b2', 'lam'],
    ['b', 'b = \u03b7\u00b2r\u00b2(1 + \u03b7L)\u00b2', 'b'], ['two', '2b/\u03bb', null],
    ['radius_sq', '20b/\u03bb', 'radius_sq'], ['dist0_sq', 'max |y\u2080 \u2212 x*|\u00b2', 'dist0_sq'],
    ['T1', 'T\u2081 = log(\u03bb max|y\u2080 \u2212 x*|\u00b2 / b) / \u03bb', 'T1'], ['steps', 'steps run', 'steps'],
    ['measured', 'measured quantile of |y_T \u2212 x*|\u00b2', 'measured'],
    ['share_within', 'share within 20b/\u03bb', 'share_within'], ['diverged', 'diverged', 'diverged']
  ];

  function rowValue(n, row) {
    if (row[0] === 'two') return isFinite(n.radius_sq) ? show(0.1 * n.radius_sq) : '\u221e';
    if (row[0] === 'share_within') return percent(n.share_within);
    if (row[0] === 'steps' || row[0] === 'diverged') return String(n[row[0]]);
    if (row[0] === 'lr_max') return show(n.lr_max) + (n.step_size_ok ? ' (\u03b7 below: holds)' : ' (fails: ' + n.failing + ')');
    return show(n[row[2]]);
  }

  /** The numbers as plain data (for tests): sgdlab's names, arrays as Arrays. */
  function plain(n) {
    var out = {};
    ['lr', 'noise', 'radius', 'L', 'L_at', 'c', 'c_at_y', 'violations', 'n_points', 'r', 'lam', 'b',
     'radius_sq', 'T1', 'dist0_sq', 'steps', 'lr_max', 'step_size_ok', 'failing', 'quantile', 'measured',
     'share_within', 'diverged', 'sentence', 'ms'].forEach(function (k) { out[k] = n[k]; });
    out.x = Array.from(n.x);
    out.dist_sq = Array.from(n.dist_sq);
    out.starts = Array.from(n.starts);
    return out;
  }

  // -- one mounted explorer -------------------------------------------------------------------
  function Explorer(div, config) {
    var u = ui, el = u.el, self = this;
    this.div = div; this.config = config;
    this.state = {lr: config.settings.lr, noise: config.settings.noise};
    this.result = null;
    this.schedule = u.debounce(function () { self.run(); }, DEBOUNCE_MS);
    this.controls = makeControls(config, this.state, function () { self.schedule(); });
    this.progress = u.progress('Running SGD');
    this.status = el('p', {class: 'sgdlab-live-status'});
    this.words = el('p', {class: 'sgdlab-t1-sentence', 'aria-live': 'polite'});
    this.panel = ui.numberList('sgdlab-t1-numbers', ROWS);
    this.figures = [this.figure(drawAssumption, 'Assumption 1 ratio over the domain'),
                    this.figure(drawRadius, 'Distribution of the final squared distances')];
    this.root = el('div', {class: 'sgdlab-live-app sgdlab-t1', role: 'group',
                           'aria-label': 'Live explorer: Theorem 1 on the ripple, step size and noise'}, [
      el('div', {class: 'sgdlab-live-controls'}, [this.controls.lr.root, this.controls.noise.root]),
      el('div', {class: 'sgdlab-live-buttons', role: 'group', 'aria-label': 'Quick picks'}, quickPicks(config, this.state, function (p) { self.set(p); })),
      el('div', {class: 'sgdlab-live-state'}, [this.progress.root, this.status]),
      el('div', {class: 'sgdlab-live-panels'}, this.figures.map(function (f) { return f.node; })),
      this.words, this.panel.node
    ]);
    this.runs = u.runner({root: this.root, progress: this.progress, status: this.status});
  }

  /** The sliders: their ends from the config's ranges, what their number boxes accept from its
      limits (sgdlab.book.main_theorem.LIVE_LIMITS). */
  function makeControls(config, state, changed) {
    var lr = config.ranges.lr, noise = config.ranges.noise, limits = config.limits;
    return {
      lr: ui.slider({label: 'Step size \u03b7', value: state.lr, min: lr[0], max: lr[1],
                     hardMin: limits.lr[0], hardMax: limits.lr[1], log: true, digits: 3,
                     onChange: function (v) { state.lr = v; changed(); }}),
      noise: ui.slider({label: 'Noise bound W (r = W)', value: state.noise, min: noise[0], max: noise[1],
                        hardMin: limits.noise[0], hardMax: limits.noise[1], digits: 3,
                        onChange: function (v) { state.noise = v; changed(); }})
    };
  }

  /** Buttons: the chapter's settings, GD (W = 0), and the W whose radius eta W is half the
      ripple's period (there the smoothing removes the ripples exactly). */
  function quickPicks(config, state, pick) {
    var period = 2 * Math.PI / config.landscape.k, u = ui;
    return [
      u.button({label: 'Defaults', title: 'Step size and noise back to the chapter\u2019s',
                onClick: function () { pick({lr: config.settings.lr, noise: config.settings.noise}); }}),
      u.button({label: 'W = 0 (GD)', title: 'No noise: b = 0',
                onClick: function () { pick({noise: 0}); }}),
      u.button({label: '\u03b7W = p/2', title: 'The noise whose radius \u03b7W is half the ripple\u2019s period p',
                onClick: function () { pick({noise: Number((period / 2 / state.lr).toPrecision(3))}); }})
    ];
  }

  Explorer.prototype.figure = function (draw, label) {
    var el = ui.el, self = this, caption = el('figcaption', {});
    var node = el('figure', {class: 'sgdlab-live-panel'}, [caption]);
    var handle = ui.canvas(node, {height: HEIGHT, label: label, draw: function (ctx, w, h) {
      if (self.result) draw(ctx, w, h, self.result, ui.themeColors(self.div, COLOR_VARS));
    }});
    return {node: node, caption: caption, handle: handle};
  };

  Explorer.prototype.apply = function (partial) {
    var self = this;
    Object.keys(partial || {}).forEach(function (key) {
      if (!(key in self.state)) throw new Error('unknown setting "' + key + '"; settings are lr, noise');
      var value = partial[key];
      if (typeof value !== 'number' || !isFinite(value)) throw new TypeError(key + ' must be a finite number, got ' + JSON.stringify(value));
      self.state[key] = self.controls[key].set(value);
    });
  };

  /** Sets lr and/or noise (the controls follow, within their limits) and runs; resolves with
      the numbers of the first run that includes them. */
  Explorer.prototype.set = function (partial) {
    try { this.apply(partial); } catch (err) { return Promise.reject(err); }
    this.schedule.cancel();
    var waiting = this.runs.next();
    this.run();
    return waiting;
  };

  Explorer.prototype.run = function () {
    var self = this, config = this.config, settings = {lr: this.state.lr, noise: this.state.noise};
    return this.runs.start(function (hooks) { return computeAsync(config, settings, hooks); },
                           function (n, wallMs) {
                             self.result = n;
                             self.render(n);
                             return {text: n.dist_sq.length + ' trials \u00d7 ' + n.steps +
                                       ' steps, computed in your browser in ' + Math.round(n.ms) +
                                       ' ms (' + Math.round(wallMs) + ' ms with drawing).',
                                     value: plain(n)};
                           });
  };

  Explorer.prototype.render = function (n) {
    var self = this;
    this.figures[0].caption.textContent = leftCaption(n);
    this.figures[1].caption.textContent = rightCaption(n);
    this.figures[0].handle.setLabel(leftCaption(n) + '. The ratio over the domain against y, with c.');
    this.figures[1].handle.setLabel(rightCaption(n) + '. The share of trials against |y_T - x*|^2, with 2b/lambda, 20b/lambda and the ' +
      n.quantile * 100 + '% quantile ' + show(n.measured) + '.');
    this.redraw();
    ROWS.forEach(function (row) { self.panel.cells[row[0]].textContent = rowValue(n, row); });
    this.words.textContent = n.sentence;
  };

  Explorer.prototype.redraw = function () {
    this.figures.forEach(function (f) { f.handle.redraw(); });
  };

  Explorer.prototype.api = function () {
    var self = this;
    return {
      kind: 'theorem1', element: this.div,
      set: function (partial) { return self.set(partial); },
      settings: function () { return Object.assign({}, self.config.settings, self.state); },
      last: function () { return self.result ? plain(self.result) : null; }
    };
  };

  // -- mounting -------------------------------------------------------------------------------
  function readConfig(div) {
    var config = ui.readConfig(div, ['landscape', 'domain', 'settings', 'ranges', 'limits']);
    if (config.landscape.name !== 'ripple') throw new Error('only the ripple is computed here, got ' + config.landscape.name);
    return config;
  }

  function build(div) {
    if (!live.sgdTrials) throw new Error('core.js must load before theorem1.js');
    var config = readConfig(div);
    constants(config, config.settings);  // the formulas work on this config, or the picture stays
    var explorer = new Explorer(div, config);
    div.appendChild(explorer.root);
    explorer.redraw();
    return explorer;
  }

  live.theorem1 = Object.assign({}, formulas);
  if (ui) Object.assign(live.theorem1, ui.mountEach(SELECTOR, 'theorem1', build));
  else if (root.console) root.console.error('sgdlab live explorer (theorem1): ui.js must load first');
})(typeof self !== 'undefined' ? self : this);
