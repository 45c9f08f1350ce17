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

   Plain JavaScript, no libraries. In node the formulas are module.exports; in the browser
   sgdlabLive.figure4 = {formulas, mount}, and every div.sgdlab-live[data-explorer="figure4"]
   is mounted when the page has loaded. */
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
  var COLOURS = {  // CSS variable -> fallback (sgdlab.book.style.PALETTE)
    text: ['--pst-color-text-base', '#222'], muted: ['--pst-color-text-muted', '#777'],
    background: ['--pst-color-background', '#fff'], border: ['--pst-color-border', '#ccc'],
    level: ['--sgdlab-f4-level', '#1f4e79'], good: ['--sgdlab-f4-good', '#1e8449'],
    bad: ['--sgdlab-f4-bad', '#c0392b'], theorem: ['--sgdlab-f4-theorem', '#8e44ad']
  };

  /** The theme's colours, read now (they change with the light/dark switch). */
  function colours(node) {
    var style = getComputedStyle(node), out = {};
    Object.keys(COLOURS).forEach(function (key) {
      out[key] = style.getPropertyValue(COLOURS[key][0]).trim() || COLOURS[key][1];
    });
    return out;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** A number for the reader: 4 significant digits, inf as the symbol. */
  function show(value) {
    if (value === Infinity) return '\u221e';
    if (value === -Infinity) return '-\u221e';
    if (!isFinite(value)) return 'undefined';
    if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) {
      return value.toExponential(3);
    }
    return String(Number(value.toPrecision(4)));
  }

  var uid = 0;

  /** A labelled input: <label for=id>text</label><input id=id ...>. */
  function field(text, attrs) {
    uid += 1;
    var id = 'sgdlab-f4-' + uid;
    var input = el('input', Object.assign({id: id}, attrs));
    return {input: input, node: el('span', {class: 'sgdlab-f4-field'},
      [el('label', {for: id, text: text}), input])};
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
    c.node = el('div', {class: 'sgdlab-f4-controls'},
      [c.x0.node, c.x1.node, c.slider.node, c.lr.node]);
    return c;
  }

  var ROWS = [['change', 'change of the squared distance to x*'],
    ['ratio', 'distance to x* after / before'], ['eta0', 'exact threshold \u03b70'],
    ['eta3', "Theorem 3's threshold \u03b73"]];

  function numbersPanel() {
    var cells = {}, list = el('dl', {class: 'sgdlab-f4-numbers'});
    ROWS.forEach(function (row) {
      cells[row[0]] = el('dd', {'data-number': row[0]});
      list.appendChild(el('dt', {text: row[1]}));
      list.appendChild(cells[row[0]]);
    });
    return {node: list, cells: cells};
  }

  /** A canvas that follows its container's CSS width, drawn at devicePixelRatio. */
  function sizeCanvas(canvas, cssWidth, cssHeight) {
    var ratio = root.devicePixelRatio || 1;
    canvas.style.width = cssWidth + 'px';
    canvas.style.height = cssHeight + 'px';
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
    var ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return ctx;
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
    var left = 46, right = 8, top = 8, bottom = 30, lrs = [], ys = [];
    ctx.fillStyle = col.background; ctx.fillRect(0, 0, width, height);
    ctx.font = '11px sans-serif'; ctx.fillStyle = col.text;
    ctx.fillText('step size lr (log)', width / 2 - 40, height - 4);
    if (!(n.dist_sq_before > 0)) {
      ctx.fillText('x_t = x*: no ball, no ratio', left, height / 2);
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
    function X(lr) { return left + (Math.log10(lr / low) / Math.log10(high / low)) * (width - left - right); }
    function Y(y) { return top + (yHigh - Math.log10(Math.max(y, 1e-300))) / (yHigh - yLow) * (height - top - bottom); }
    ctx.strokeStyle = col.border; ctx.lineWidth = 1;
    ctx.strokeRect(left, top, width - left - right, height - top - bottom);
    ctx.fillText('after\u00b2/before\u00b2', 2, top + 10);
    axisTicks(ctx, X, Y, low, high, yLow, yHigh, height - bottom, left);
    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, width - left - right, height - top - bottom); ctx.clip();
    line(ctx, [[X(low), Y(1)], [X(high), Y(1)]], col.muted, []);
    mark(ctx, X, n.eta0, top, height - bottom, col.text, [4, 3]);
    mark(ctx, X, n.eta3, top, height - bottom, col.theorem, [7, 3]);
    line(ctx, lrs.map(function (lr, k) { return [X(lr), Y(ys[k])]; }), col.level, []);
    ctx.fillStyle = n.inside ? col.good : col.bad;
    ctx.beginPath(); ctx.arc(X(n.lr), Y(n.dist_sq_after / n.dist_sq_before), 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
    legend(ctx, width - right - 112, top + 4, col);
  }

  function line(ctx, points, colour, dash) {
    ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = 1.3;
    ctx.beginPath();
    points.forEach(function (p, k) { if (k) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); });
    ctx.stroke(); ctx.setLineDash([]);
  }

  function mark(ctx, X, lr, y0, y1, colour, dash) {
    if (isFinite(lr) && lr > 0) line(ctx, [[X(lr), y0], [X(lr), y1]], colour, dash);
  }

  function legend(ctx, x, y, col) {
    [['\u03b70 (exact)', col.text, [4, 3]], ['\u03b73 (Theorem 3)', col.theorem, [7, 3]]]
      .forEach(function (item, k) {
        line(ctx, [[x, y + 6 + 14 * k], [x + 16, y + 6 + 14 * k]], item[1], item[2]);
        ctx.fillStyle = col.text; ctx.fillText(item[0], x + 20, y + 10 + 14 * k);
      });
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

  // -- mounting --------------------------------------------------------------------------
  function build(config) {
    var state = {config: config, x_t: config.x_t.slice(), lr: config.lr, focused: false};
    state.segments = levelSegments(config, config.x_t);
    var picture = el('canvas', {class: 'sgdlab-f4-picture', tabindex: '0', role: 'img',
      'aria-label': 'Figure 4: level sets of f, the ball around x* through x_t and one GD ' +
        'step. Drag x_t, or move it with the arrow keys (Shift: larger moves).'});
    var curve = el('canvas', {class: 'sgdlab-f4-curve', role: 'img',
      'aria-label': 'Squared distance to x* after one step over before, against the step size'});
    var c = controls(config), panel = numbersPanel();
    var words = el('p', {class: 'sgdlab-f4-sentence', 'aria-live': 'polite'});
    var box = el('div', {class: 'sgdlab-f4'}, [
      el('div', {class: 'sgdlab-f4-figures'}, [picture, curve]), c.node, panel.node, words]);
    return {state: state, picture: picture, curve: curve, controls: c, panel: panel,
      words: words, node: box};
  }

  function render(ui) {
    var state = ui.state, n = numbers(state.config, state.x_t, state.lr);
    state.n = n;
    var col = colours(ui.node), width = ui.node.clientWidth || 600;
    var size = Math.max(200, Math.min(420, width >= 640 ? width / 2 - 12 : width));
    ui.view = pictureView(state.config, size);
    drawPicture(sizeCanvas(ui.picture, size, size), ui.view, state, n, col, state.focused);
    var curveWidth = width >= 640 ? Math.min(width - size - 16, 520) : size;
    drawCurve(sizeCanvas(ui.curve, curveWidth, size), curveWidth, size, state, n, col);
    ROWS.forEach(function (row) { ui.panel.cells[row[0]].textContent = show(n[row[0]]); });
    ui.words.textContent = n.sentence;
    return n;
  }

  function syncControls(ui, except) {
    var c = ui.controls, s = ui.state;
    if (except !== c.x0.input) c.x0.input.value = String(Number(s.x_t[0].toPrecision(6)));
    if (except !== c.x1.input) c.x1.input.value = String(Number(s.x_t[1].toPrecision(6)));
    if (except !== c.lr.input) c.lr.input.value = String(Number(s.lr.toPrecision(6)));
    if (except !== c.slider.input) c.slider.input.value = String(Math.log10(s.lr));
    c.slider.input.setAttribute('aria-valuetext', 'lr = ' + Number(s.lr.toPrecision(4)));
  }

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
  function update(ui, request, except) {
    var next = checkedState(request, ui.state);
    ui.state.x_t = next.x_t; ui.state.lr = next.lr;
    syncControls(ui, except);
    return render(ui);
  }

  function listen(ui) {
    var c = ui.controls;
    function fromInput(input, make) {
      input.addEventListener('input', function () {
        var value = parseFloat(input.value);
        if (isFinite(value)) { try { update(ui, make(value), input); } catch (e) { /* keep */ } }
      });
    }
    fromInput(c.x0.input, function (v) { return {x_t: [v, ui.state.x_t[1]]}; });
    fromInput(c.x1.input, function (v) { return {x_t: [ui.state.x_t[0], v]}; });
    fromInput(c.lr.input, function (v) { return {lr: v}; });
    fromInput(c.slider.input, function (v) { return {lr: Math.pow(10, v)}; });
    listenPicture(ui);
    var redraw = function () { render(ui); }, width = ui.node.clientWidth;
    if (root.ResizeObserver) {
      new root.ResizeObserver(function () {  // a new width only: the height follows the drawing
        if (ui.node.clientWidth !== width) {
          width = ui.node.clientWidth;
          root.requestAnimationFrame(redraw);
        }
      }).observe(ui.node);
    }
    new MutationObserver(redraw).observe(document.documentElement,
      {attributes: true, attributeFilter: ['data-theme']});
  }

  function listenPicture(ui) {
    var canvas = ui.picture, dragging = false;
    function moveTo(event) {
      var rect = canvas.getBoundingClientRect();
      update(ui, {x_t: ui.view.toPoint(event.clientX - rect.left, event.clientY - rect.top)});
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
      var step = ui.state.config.half_width / (event.shiftKey ? 10 : 100), x = ui.state.x_t;
      update(ui, {x_t: [x[0] + d[0] * step, x[1] + d[1] * step]});
    });
    canvas.addEventListener('focus', function () { ui.state.focused = true; render(ui); });
    canvas.addEventListener('blur', function () { ui.state.focused = false; render(ui); });
  }

  /** Mount the explorer on `div` (its data-config); the static picture stays if this throws. */
  function mount(div) {
    if (div.sgdlabExplorer) return div.sgdlabExplorer;
    var config = JSON.parse(div.dataset.config);
    var ui = build(config);
    div.appendChild(ui.node);
    try {
      syncControls(ui);
      render(ui);
      listen(ui);
    } catch (error) {
      div.removeChild(ui.node);
      throw error;
    }
    var still = div.querySelector('img.sgdlab-live-static');
    if (still) still.style.display = 'none';
    div.sgdlabExplorer = {
      kind: 'figure4', element: div,
      set: function (request) { return update(ui, request || {}); },
      numbers: function () { return ui.state.n; }
    };
    live.mounted = live.mounted || [];
    live.mounted.push(div.sgdlabExplorer);
    return div.sgdlabExplorer;
  }

  function mountAll() {
    var divs = document.querySelectorAll('div.sgdlab-live[data-explorer="figure4"]');
    Array.prototype.forEach.call(divs, function (div) {
      if (div.sgdlabExplorer) return;
      try { mount(div); } catch (error) {
        if (root.console) root.console.warn('sgdlab figure4 explorer: ' + error);
      }
    });
  }

  var live = root.sgdlabLive = root.sgdlabLive || {};
  live.figure4 = Object.assign({mount: mount}, formulas);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})(typeof self !== 'undefined' ? self : this);
