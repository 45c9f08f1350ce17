/* sgdlabLive.figure4: Figure 4 of the paper (Theorem 3) computed in the reader's browser, on
   the rippled bowl of chapter step-size, f(x) = x'Ax/2 + beta sin^2(omega x_1), x* = 0.

   Drag x_t on the picture (or move it with the arrow keys, or type its coordinates) and move
   the step size lr: the picture shows the level sets of f, the ball around x* through x_t
   and one GD step x_t - lr grad f(x_t) (green when it ends inside the ball, red outside); the
   second panel shows the squared distance after the step, over before, against lr, with the
   exact threshold eta0 and Theorem 3's eta3. The formulas follow sgdlab's operation order
   (the chapter's bowl_grad; sgdlab.theory.gd_distance_change, overshoot_lr,
   theorem3_threshold), so they agree with Python to the last bit except where Math.sin and
   the C library's sin differ (tests/js/figure4.test.mjs, tests/test_live_figure4.py).

   Plain JavaScript, no libraries; the page is built with ui.js (elements, canvases, colours,
   lines, legend, number format, mounting). In node the formulas are module.exports; in the
   browser sgdlabLive.figure4 = {formulas, mount, mountAll}, and every
   div.sgdlab-live[data-explorer="figure4"] is mounted when the page has loaded (the static
   picture inside stays if mounting fails). */
(function (root) {
  'use strict';

  // -- formulas (sgdlab's operation order) ------------------------------------------------
  /** f(x) of the chapter's bowl_f; `bowl` = {A, beta, omega}. */
  function f(x, bowl) {
    var A = bowl.A, x0 = x[0], x1 = x[1];
    var quadratic = A[0][0] * (x0 * x0) + 2 * A[0][1] * x0 * x1 + A[1][1] * (x1 * x1);
    var s = Math.sin(bowl.omega * x0);
    return 0.5 * quadratic + bowl.beta * (s * s);
  }

  /** grad f(x) of the chapter's bowl_grad, in its order. */
  function grad(x, bowl) {
    var A = bowl.A;
    var ripple = bowl.beta * bowl.omega * Math.sin(2 * bowl.omega * x[0]);
    var first = A[0][0] * x[0] + A[0][1] * x[1] + ripple;
    return [first, A[1][0] * x[0] + A[1][1] * x[1]];
  }

  function dot(a, b) { return a[0] * b[0] + a[1] * b[1]; }

  /** One GD step x - lr g (g = grad f(x)). */
  function gdStep(x, lr, g) { return [x[0] - lr * g[0], x[1] - lr * g[1]]; }

  /** ||x - lr g - x*||^2 - ||x - x*||^2: sgdlab.theory.gd_distance_change (Theorem 3's
      identity, computed from the two distances). */
  function gdDistanceChange(x, lr, bowl, xStar) {
    var g = grad(x, bowl);
    var after = [x[0] - lr * g[0] - xStar[0], x[1] - lr * g[1] - xStar[1]];
    var before = [x[0] - xStar[0], x[1] - xStar[1]];
    return dot(after, after) - dot(before, before);
  }

  /** eta0 = 2<g, x - x*>/||g||^2 (inf where g = 0): sgdlab.theory.overshoot_lr. */
  function overshootLr(x, bowl, xStar) {
    var g = grad(x, bowl), e = [x[0] - xStar[0], x[1] - xStar[1]];
    var denominator = dot(g, g) + 0.0;
    return denominator > 0 ? 2.0 * dot(g, e) / denominator : Infinity;
  }

  /** Theorem 3's eta3 = 2c'||x - x*||^2/||g||^2 (inf where g = 0):
      sgdlab.theory.theorem3_threshold. */
  function theorem3Threshold(x, cPrime, bowl, xStar) {
    var g = grad(x, bowl), e = [x[0] - xStar[0], x[1] - xStar[1]];
    var gSq = dot(g, g);
    return gSq > 0 ? 2 * cPrime * dot(e, e) / gSq : Infinity;
  }

  /** Where lr falls: 'still' (g = 0), 'away' (eta0 <= 0), 'hypothesis' (eta3 < eta0: Theorem
      3's hypothesis fails at x_t), 'above' (lr > eta3), 'between' (eta0 < lr <= eta3),
      'boundary' (lr = eta0) or 'below' (lr < eta0). */
  function regime(n) {
    if (!(n.grad_sq > 0)) return 'still';
    if (n.eta0 <= 0) return 'away';
    if (n.eta3 < n.eta0) return 'hypothesis';
    if (n.lr > n.eta3) return 'above';
    if (n.lr > n.eta0) return 'between';
    return n.lr === n.eta0 ? 'boundary' : 'below';
  }

  var REGIMES = {
    still: 'The gradient is zero at x_t: no step size moves it (both thresholds are infinite).',
    away: 'The gradient points away from x* here (\u03b70 \u2264 0): every step size moves away.',
    hypothesis: "Theorem 3's hypothesis fails at x_t (\u27e8g, x_t \u2212 x*\u27e9 > " +
      "c'\u2016x_t \u2212 x*\u2016\u00b2, so \u03b73 < \u03b70): the theorem is silent, " +
      'the exact threshold \u03b70 still decides.',
    above: "lr is above Theorem 3's threshold \u03b73: the theorem says the step ends no " +
      'closer to x*.',
    between: "lr is between the exact threshold \u03b70 and Theorem 3's \u03b73: by the " +
      'identity the step ends farther from x*, but Theorem 3 does not say so.',
    boundary: 'lr equals the exact threshold \u03b70: by the identity the step ends at the ' +
      'same distance (up to rounding).',
    below: 'lr is below the exact threshold \u03b70: by the identity the step gets closer to x*.'
  };

  /** The sentence for the numbers `n`: the regime, then the outcome (the sign of the change). */
  function sentence(n) {
    var outcome = n.change < 0 ? 'closer to x*' : n.change > 0 ? 'farther from x*' :
      'at the same distance from x*';
    var ratio = isFinite(n.ratio) ? ' (distance \u00d7' + Number(n.ratio.toPrecision(3)) + ')' : '';
    return REGIMES[n.regime] + ' Here the step ends ' + outcome + ratio + '.';
  }

  /** Every number of the explorer at x_t and lr (config: A, beta, omega, x_star, c_prime). */
  function numbers(config, xT, lr) {
    var x = [xT[0], xT[1]], xStar = config.x_star, g = grad(x, config);
    var next = gdStep(x, lr, g);
    var before = [x[0] - xStar[0], x[1] - xStar[1]];
    var after = [next[0] - xStar[0], next[1] - xStar[1]];
    var n = {
      x_t: x, lr: lr, grad: g, grad_sq: dot(g, g), x_next: next,
      dist_sq_before: dot(before, before), dist_sq_after: dot(after, after),
      change: gdDistanceChange(x, lr, config, xStar),
      eta0: overshootLr(x, config, xStar),
      eta3: theorem3Threshold(x, config.c_prime, config, xStar)
    };
    n.ratio = Math.sqrt(n.dist_sq_after) / Math.sqrt(n.dist_sq_before);
    n.inside = n.change < 0;
    n.regime = regime(n);
    n.sentence = sentence(n);
    return n;
  }

  // -- level sets: marching squares ------------------------------------------------------
  var EDGES = [[], [[3, 0]], [[0, 1]], [[3, 1]], [[1, 2]], [[3, 0], [1, 2]], [[0, 2]],
    [[3, 2]], [[2, 3]], [[0, 2]], [[0, 1], [2, 3]], [[1, 2]], [[1, 3]], [[0, 1]], [[3, 0]], []];

  /** Segments [[x0, y0], [x1, y1]] of the level `level` of `values` (row j at ys[j], column i
      at xs[i]), with linear interpolation along the cell edges (saddles split by the cell's
      mean). */
  function contour(values, xs, ys, level) {
    var segments = [];
    for (var j = 0; j + 1 < ys.length; j++) {
      for (var i = 0; i + 1 < xs.length; i++) {
        var v = [values[j][i], values[j][i + 1], values[j + 1][i + 1], values[j + 1][i]];
        var index = 0;
        for (var k = 0; k < 4; k++) if (v[k] > level) index |= 1 << k;
        var pairs = EDGES[index];
        if (index === 5 || index === 10) {
          var high = (v[0] + v[1] + v[2] + v[3]) / 4 > level;
          if (high === (index === 5)) pairs = index === 5 ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]];
        }
        for (var p = 0; p < pairs.length; p++) {
          segments.push([edgePoint(pairs[p][0], v, xs, ys, i, j, level),
            edgePoint(pairs[p][1], v, xs, ys, i, j, level)]);
        }
      }
    }
    return segments;
  }

  /** The crossing of `level` on edge e of cell (i, j): 0 bottom, 1 right, 2 top, 3 left. */
  function edgePoint(e, v, xs, ys, i, j, level) {
    var a = e, b = (e + 1) % 4;
    var t = (level - v[a]) / (v[b] - v[a]);
    var corner = [[xs[i], ys[j]], [xs[i + 1], ys[j]], [xs[i + 1], ys[j + 1]], [xs[i], ys[j + 1]]];
    return [corner[a][0] + t * (corner[b][0] - corner[a][0]),
      corner[a][1] + t * (corner[b][1] - corner[a][1])];
  }

  /** Levels of f through x* + s(x_t - x*), s geometric from 0.2 to past the view (as the
      static picture of sgdlab.book.step_size.plot_step_picture). */
  function levelValues(config, xT, half) {
    var xs = config.x_star, e = [xT[0] - xs[0], xT[1] - xs[1]];
    var radius = Math.sqrt(dot(e, e)), out = [];
    if (!(radius > 0)) e = [half, 0], radius = half;
    var top = 2.0 * Math.max(half / radius, 1.0), count = config.levels;
    for (var k = 0; k < count; k++) {
      var s = 0.2 * Math.pow(top / 0.2, count > 1 ? k / (count - 1) : 0);
      out.push(f([xs[0] + s * e[0], xs[1] + s * e[1]], config));
    }
    return out.filter(function (v, k) { return out.indexOf(v) === k; });
  }

  function levelSegments(config, xT) {
    var half = config.half_width, xs = [], ys = [], values = [], n = 101;
    for (var k = 0; k < n; k++) {
      xs.push(config.x_star[0] - half + 2 * half * k / (n - 1));
      ys.push(config.x_star[1] - half + 2 * half * k / (n - 1));
    }
    for (var j = 0; j < n; j++) {
      values.push(xs.map(function (x) { return f([x, ys[j]], config); }));
    }
    return levelValues(config, xT, half).reduce(function (all, level) {
      return all.concat(contour(values, xs, ys, level));
    }, []);
  }

  var formulas = {
    f: f, grad: grad, gdStep: gdStep, gdDistanceChange: gdDistanceChange,
    overshootLr: overshootLr, theorem3Threshold: theorem3Threshold, regime: regime,
    sentence: sentence, numbers: numbers, contour: contour, levelValues: levelValues
  };

  if (typeof module === 'object' && module.exports) {
    module.exports = formulas;
    return;
  }

  // -- the page ---------------------------------------------------------------------------
  var live = root.sgdlabLive = root.sgdlabLive || {};
  var ui = live.ui;
  var SELECTOR = 'div.sgdlab-live[data-explorer="figure4"]';
  var COLOR_VARS = {  // the explorer's own colours: CSS variable, fallback (figure4.css)
    level: ['--sgdlab-f4-level', '#1f4e79'], good: ['--sgdlab-f4-good', '#1e8449'],
    bad: ['--sgdlab-f4-bad', '#c0392b'], theorem: ['--sgdlab-f4-theorem', '#8e44ad']
  };

  /** A number for the reader: 4 significant digits (ui.js). */
  function show(value) {
    return ui.formatNumber(value, 4);
  }

  /** A labelled input that reports every keystroke: <label for=id>text</label><input id=id>. */
  function field(text, attrs) {
    var id = ui.uid('sgdlab-f4'), input = ui.el('input', Object.assign({id: id}, attrs));
    return {input: input, node: ui.el('span', {class: 'sgdlab-f4-field'},
      [ui.el('label', {for: id, text: text}), input])};
  }

  function controls(config) {
    var low = Math.log10(config.lr_range[0]), high = Math.log10(config.lr_range[1]);
    var c = {
      x0: field('x_t, first coordinate', {type: 'number', step: '0.05'}),
      x1: field('x_t, second coordinate', {type: 'number', step: '0.05'}),
      slider: field('step size lr (log scale)', {type: 'range', min: String(low),
        max: String(high), step: String((high - low) / 1000)}),
      lr: field('lr', {type: 'number', step: 'any', min: '0'})
    };
    c.node = ui.el('div', {class: 'sgdlab-f4-controls'},
      [c.x0.node, c.x1.node, c.slider.node, c.lr.node]);
    return c;
  }

  var ROWS = [['change', 'change of the squared distance to x*'],
    ['ratio', 'distance to x* after / before'], ['eta0', 'exact threshold \u03b70'],
    ['eta3', "Theorem 3's threshold \u03b73"]];

  /** The CSS sizes of the picture (a square) and the curve for an explorer `width` px wide:
      side by side from 640 px on, one above the other below. */
  function layout(width) {
    width = width || 600;
    var side = Math.max(200, Math.min(420, width >= 640 ? width / 2 - 12 : width));
    return {side: side, curve: width >= 640 ? Math.min(width - side - 16, 520) : side};
  }

  // -- the picture (Figure 4) ---------------------------------------------------------------
  function pictureView(config, size) {
    var half = config.half_width, c = config.x_star, pad = 6;
    var scale = (size - 2 * pad) / (2 * half);
    return {
      size: size, scale: scale,
      toPixel: function (p) {
        return [pad + (p[0] - c[0] + half) * scale, pad + (c[1] + half - p[1]) * scale];
      },
      toPoint: function (px, py) {
        return [c[0] - half + (px - pad) / scale, c[1] + half - (py - pad) / scale];
      }
    };
  }

  function arrow(ctx, from, to, colour) {
    var dx = to[0] - from[0], dy = to[1] - from[1], length = Math.sqrt(dx * dx + dy * dy);
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.lineWidth = 1.8;
    ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]); ctx.stroke();
    if (length < 1) return;
    var ux = dx / length, uy = dy / length, head = Math.min(10, length / 2);
    ctx.beginPath();
    ctx.moveTo(to[0], to[1]);
    ctx.lineTo(to[0] - head * ux + 0.45 * head * uy, to[1] - head * uy - 0.45 * head * ux);
    ctx.lineTo(to[0] - head * ux - 0.45 * head * uy, to[1] - head * uy + 0.45 * head * ux);
    ctx.closePath(); ctx.fill();
  }

  /** The part of the segment a-b inside the square [low, high]^2 (Liang-Barsky), or null;
      a step that leaves the picture gets its arrowhead at the edge. */
  function clip(a, b, low, high) {
    var t0 = 0, t1 = 1, d = [b[0] - a[0], b[1] - a[1]];
    for (var k = 0; k < 2; k++) {
      var sides = [[-d[k], a[k] - low], [d[k], high - a[k]]];
      for (var m = 0; m < 2; m++) {
        var q = sides[m][0], r = sides[m][1];
        if (q === 0) { if (r < 0) return null; continue; }
        var t = r / q;
        if (q < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
      }
    }
    if (t0 > t1) return null;
    return [[a[0] + t0 * d[0], a[1] + t0 * d[1]], [a[0] + t1 * d[0], a[1] + t1 * d[1]]];
  }

  function drawPicture(ctx, view, state, n, col, focused) {
    var size = view.size, px = view.toPixel;
    ctx.fillStyle = col.background; ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = col.level; ctx.globalAlpha = 0.6; ctx.lineWidth = 0.8;
    ctx.beginPath();
    state.segments.forEach(function (s) {
      var a = px(s[0]), b = px(s[1]);
      ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
    });
    ctx.stroke(); ctx.globalAlpha = 1;
    var star = px(state.config.x_star), start = px(n.x_t);
    ctx.strokeStyle = col.text; ctx.lineWidth = 1; ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.arc(star[0], star[1], Math.sqrt(n.dist_sq_before) * view.scale, 0, 2 * Math.PI);
    ctx.stroke(); ctx.setLineDash([]);
    var step = n.grad_sq > 0 && clip(start, px(n.x_next), 0, size);
    if (step) arrow(ctx, step[0], step[1], n.inside ? col.good : col.bad);
    ctx.fillStyle = col.text;
    ctx.font = '12px sans-serif';
    ctx.fillText('x*', star[0] + 5, star[1] - 5);
    ctx.fillRect(star[0] - 3, star[1] - 3, 6, 6);
    ctx.beginPath(); ctx.arc(start[0], start[1], 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillText('x_t', start[0] + 6, start[1] - 6);
    ctx.strokeStyle = focused ? col.text : col.border; ctx.lineWidth = focused ? 2 : 1;
    ctx.strokeRect(1, 1, size - 2, size - 2);
  }

  // -- the second panel: squared distance after one step / before, against lr -------------
  function drawCurve(ctx, width, height, state, n, col) {
    var config = state.config, low = config.lr_range[0], high = config.lr_range[1];
    var box = {left: 46, right: width - 8, top: 8, bottom: height - 30}, lrs = [], ys = [];
    ctx.fillStyle = col.background; ctx.fillRect(0, 0, width, height);
    ctx.font = '11px sans-serif'; ctx.fillStyle = col.text;
    ctx.fillText('step size lr (log)', width / 2 - 40, height - 4);
    if (!(n.dist_sq_before > 0)) {
      ctx.fillText('x_t = x*: no ball, no ratio', box.left, height / 2);
      return;
    }
    for (var k = 0; k <= 200; k++) {
      var lr = low * Math.pow(high / low, k / 200);
      lrs.push(lr);
      ys.push((n.dist_sq_before + gdDistanceChange(n.x_t, lr, config, config.x_star)) /
        n.dist_sq_before);
    }
    var positive = ys.filter(function (y) { return y > 0; }).concat([1]);
    var yLow = Math.log10(Math.max(Math.min.apply(null, positive), 1e-6)) - 0.1;
    var yHigh = Math.log10(Math.max.apply(null, positive)) + 0.1;
    function X(lr) { return box.left + (Math.log10(lr / low) / Math.log10(high / low)) * (box.right - box.left); }
    function Y(y) { return box.top + (yHigh - Math.log10(Math.max(y, 1e-300))) / (yHigh - yLow) * (box.bottom - box.top); }
    ctx.strokeStyle = col.border; ctx.lineWidth = 1;
    ctx.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
    ctx.fillText('after\u00b2/before\u00b2', 2, box.top + 10);
    axisTicks(ctx, X, Y, low, high, yLow, yHigh, box.bottom, box.left);
    ctx.save();
    ctx.beginPath(); ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top); ctx.clip();
    ui.line(ctx, [[X(low), Y(1)], [X(high), Y(1)]], col.muted, [], LINE_WIDTH);
    mark(ctx, X, n.eta0, box, col.text, [4, 3]);
    mark(ctx, X, n.eta3, box, col.theorem, [7, 3]);
    ui.line(ctx, lrs.map(function (lr, k) { return [X(lr), Y(ys[k])]; }), col.level, [], LINE_WIDTH);
    ctx.fillStyle = n.inside ? col.good : col.bad;
    ctx.beginPath(); ctx.arc(X(n.lr), Y(n.dist_sq_after / n.dist_sq_before), 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
    ui.legend(ctx, box, [['\u03b70 (exact)', col.text, [4, 3]], ['\u03b73 (Theorem 3)', col.theorem, [7, 3]]],
              col, 'lower right');
  }

  var LINE_WIDTH = 1.3;

  function mark(ctx, X, lr, box, colour, dash) {
    if (isFinite(lr) && lr > 0) ui.line(ctx, [[X(lr), box.top], [X(lr), box.bottom]], colour, dash, LINE_WIDTH);
  }

  function axisTicks(ctx, X, Y, low, high, yLow, yHigh, base, left) {
    for (var p = Math.ceil(Math.log10(low)); p <= Math.floor(Math.log10(high)); p++) {
      ctx.fillText(show(Math.pow(10, p)), X(Math.pow(10, p)) - 8, base + 13);
    }
    var step = Math.max(1, Math.ceil((yHigh - yLow) / 5));
    for (var q = Math.ceil(yLow); q <= Math.floor(yHigh); q += step) {
      ctx.fillText(show(Math.pow(10, q)), 2, Y(Math.pow(10, q)) + 4);
    }
  }

  // -- one mounted explorer ----------------------------------------------------------------
  function Explorer(div, config) {
    var self = this;
    this.div = div;
    this.state = {config: config, x_t: config.x_t.slice(), lr: config.lr, focused: false};
    this.state.segments = levelSegments(config, config.x_t);
    this.controls = controls(config);
    this.panel = ui.numberList('sgdlab-f4-numbers', ROWS);
    this.words = ui.el('p', {class: 'sgdlab-f4-sentence', 'aria-live': 'polite'});
    var figures = ui.el('div', {class: 'sgdlab-f4-figures'});
    this.node = ui.el('div', {class: 'sgdlab-f4'},
      [figures, this.controls.node, this.panel.node, this.words]);
    this.picture = ui.canvas(figures, {
      attrs: {class: 'sgdlab-f4-picture', tabindex: '0'},
      label: 'Figure 4: level sets of f, the ball around x* through x_t and one GD step. ' +
        'Drag x_t, or move it with the arrow keys (Shift: larger moves).',
      size: function (width) { var side = layout(width).side; return [side, side]; },
      draw: function (ctx, width) {
        self.view = pictureView(config, width);
        drawPicture(ctx, self.view, self.state, self.state.n, self.colours(), self.state.focused);
      }
    });
    this.curve = ui.canvas(figures, {
      attrs: {class: 'sgdlab-f4-curve'},
      label: 'Squared distance to x* after one step over before, against the step size',
      size: function (width) { var l = layout(width); return [l.curve, l.side]; },
      draw: function (ctx, width, height) {
        drawCurve(ctx, width, height, self.state, self.state.n, self.colours());
      }
    });
  }

  Explorer.prototype.colours = function () {
    return ui.themeColors(this.node, COLOR_VARS);
  };

  /** The numbers at the state's x_t and lr, drawn and written. */
  Explorer.prototype.run = function () {
    var state = this.state, n = numbers(state.config, state.x_t, state.lr), self = this;
    state.n = n;
    this.redraw();
    ROWS.forEach(function (row) { self.panel.cells[row[0]].textContent = show(n[row[0]]); });
    this.words.textContent = n.sentence;
    return n;
  };

  Explorer.prototype.redraw = function () {
    this.picture.redraw();
    this.curve.redraw();
  };

  /** The controls show the state (but `except`, the one being typed in). */
  Explorer.prototype.sync = function (except) {
    var c = this.controls, s = this.state;
    if (except !== c.x0.input) c.x0.input.value = String(Number(s.x_t[0].toPrecision(6)));
    if (except !== c.x1.input) c.x1.input.value = String(Number(s.x_t[1].toPrecision(6)));
    if (except !== c.lr.input) c.lr.input.value = String(Number(s.lr.toPrecision(6)));
    if (except !== c.slider.input) c.slider.input.value = String(Math.log10(s.lr));
    c.slider.input.setAttribute('aria-valuetext', 'lr = ' + Number(s.lr.toPrecision(4)));
  };

  function checkedState(request, state) {
    var x = request.x_t === undefined ? state.x_t : request.x_t;
    var lr = request.lr === undefined ? state.lr : request.lr;
    if (!x || x.length !== 2 || !isFinite(x[0]) || !isFinite(x[1]) ||
        typeof x[0] !== 'number' || typeof x[1] !== 'number') {
      throw new TypeError('x_t must be 2 finite numbers, got ' + JSON.stringify(x));
    }
    if (typeof lr !== 'number' || !isFinite(lr) || !(lr > 0)) {
      throw new RangeError('lr must be a finite number > 0, got ' + String(lr));
    }
    return {x_t: [x[0], x[1]], lr: lr};
  }

  /** Move x_t and/or lr; returns the new numbers. */
  Explorer.prototype.update = function (request, except) {
    var next = checkedState(request, this.state);
    this.state.x_t = next.x_t; this.state.lr = next.lr;
    this.sync(except);
    return this.run();
  };

  Explorer.prototype.listen = function () {
    var self = this, c = this.controls;
    function fromInput(input, make) {
      input.addEventListener('input', function () {
        var value = parseFloat(input.value);
        if (isFinite(value)) { try { self.update(make(value), input); } catch (e) { /* keep */ } }
      });
    }
    fromInput(c.x0.input, function (v) { return {x_t: [v, self.state.x_t[1]]}; });
    fromInput(c.x1.input, function (v) { return {x_t: [self.state.x_t[0], v]}; });
    fromInput(c.lr.input, function (v) { return {lr: v}; });
    fromInput(c.slider.input, function (v) { return {lr: Math.pow(10, v)}; });
    this.listenPicture();
  };

  Explorer.prototype.listenPicture = function () {
    var self = this, canvas = this.picture.canvas, dragging = false;
    function moveTo(event) {
      var rect = canvas.getBoundingClientRect();
      self.update({x_t: self.view.toPoint(event.clientX - rect.left, event.clientY - rect.top)});
    }
    canvas.addEventListener('pointerdown', function (event) {
      dragging = true; canvas.setPointerCapture(event.pointerId); canvas.focus(); moveTo(event);
    });
    canvas.addEventListener('pointermove', function (event) { if (dragging) moveTo(event); });
    canvas.addEventListener('pointerup', function () { dragging = false; });
    canvas.addEventListener('pointercancel', function () { dragging = false; });
    canvas.addEventListener('keydown', function (event) {
      var keys = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]};
      var d = keys[event.key];
      if (!d) return;
      event.preventDefault();
      var step = self.state.config.half_width / (event.shiftKey ? 10 : 100), x = self.state.x_t;
      self.update({x_t: [x[0] + d[0] * step, x[1] + d[1] * step]});
    });
    canvas.addEventListener('focus', function () { self.state.focused = true; self.run(); });
    canvas.addEventListener('blur', function () { self.state.focused = false; self.run(); });
  };

  Explorer.prototype.api = function () {
    var self = this;
    return {
      kind: 'figure4', element: this.div,
      set: function (request) { return self.update(request || {}); },
      numbers: function () { return self.state.n; }
    };
  };

  // -- mounting --------------------------------------------------------------------------
  /** The explorer on `div` (its data-config); ui.mountEach runs it and keeps the static picture
      if this throws. */
  function build(div) {
    var config = ui.readConfig(div, ['A', 'beta', 'omega', 'x_star', 'x_t', 'c_prime', 'lr',
                                     'lr_range', 'half_width', 'levels']);
    var explorer = new Explorer(div, config);
    div.appendChild(explorer.node);
    explorer.sync();
    explorer.listen();
    return explorer;
  }

  live.figure4 = Object.assign({}, formulas);
  if (ui) Object.assign(live.figure4, ui.mountEach(SELECTOR, 'figure4', build));
  else if (root.console) root.console.error('sgdlab live explorer (figure4): ui.js must load first');
})(typeof self !== 'undefined' ? self : this);
