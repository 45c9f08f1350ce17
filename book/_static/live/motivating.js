/* The motivating example's live explorer (the paper's Figure 3, computed in the reader's
   browser). It mounts on every <div class="sgdlab-live" data-explorer="motivating"> that
   sgdlab.book.live writes: controls for the noise W, the step size, trials, steps, stages, seed
   and how restarts start; per stage a panel with f, the exact smoothed g at the stage's radius
   eta*W, the final iterates (dots) and their cumulative count from the left (bars); and a table
   of the shares. The numbers come from core.js (sgdlabLive.runExplorerAsync), equal to sgdlab's
   bit for bit; this file only draws them. With JavaScript off, or if mounting fails, the static
   picture inside the div stays. */
(function (root) {
  'use strict';

  var live = root.sgdlabLive = root.sgdlabLive || {};
  var SELECTOR = 'div.sgdlab-live[data-explorer="motivating"]';
  var BINS = 60;                 // bars of the cumulative count (as sgdlab.book.style)
  var PANEL_HEIGHT = 200;        // CSS pixels of one stage's canvas
  var DEBOUNCE_MS = 200;         // a control's burst of moves starts one run
  var RESTARTS = [
    {value: 'new', label: 'new points in a halving region'},
    {value: 'continue', label: 'previous iterates'}
  ];
  var COLOR_VARS = {function: ['--sgdlab-live-function', '#1f4e79'],  // CSS variable, fallback
                    smoothed: ['--sgdlab-live-smoothed', '#e67e22'],
                    alert: ['--sgdlab-live-alert', '#c0392b'], bar: ['--sgdlab-live-bar', '#5d8fc9']};

  var ui = function () { return live.ui; };
  var fmt = function (value) { return live.ui.formatNumber(value, 3); };
  var percent = function (share) { return live.ui.percent(share, 3); };

  // -- numbers as text ------------------------------------------------------------------------

  function interval(half) {
    return '[−' + fmt(half) + ', ' + fmt(half) + ']';
  }

  function stageStart(settings, k, stage) {
    if (settings.restart === 'continue' && k > 0) return 'from stage ' + k + '’s iterates';
    return 'starts in ' + interval(stage.span);
  }

  function stageCaption(settings, k, stage) {
    return 'Stage ' + (k + 1) + ' · ' + stageStart(settings, k, stage) + ' · W = ' + fmt(stage.noise) +
      ' · ηW = ' + fmt(stage.radius) + (stage.diverged ? ' (' + stage.diverged + ' diverged)' : '');
  }

  function canvasLabel(settings, k, stage) {
    return 'Stage ' + (k + 1) + ' plot on ' + interval(stage.span) + ': f, and g, f smoothed over ' +
      'radius ' + fmt(stage.radius) + ', both scaled to the bars; the final iterates of ' +
      stage.x.length + ' trials as dots on the axis and their cumulative count from the left as ' +
      'bars. ' + percent(stage.within) + ' end within ' + interval(settings.inner) + ', ' +
      percent(stage.spurious) + ' in basins of spurious minima of g.';
  }

  // -- drawing one stage ----------------------------------------------------------------------

  function frame(width, height, span, top) {
    var box = {left: 44, right: width - 10, top: 8, bottom: height - 26};
    return {
      box: box,
      x: function (v) { return box.left + (v + span) / (2 * span) * (box.right - box.left); },
      y: function (v) { return box.bottom - v / top * (box.bottom - box.top); }
    };
  }

  function cumulativeCounts(x, span) {
    var counts = new Array(BINS).fill(0), width = 2 * span / BINS;
    for (var i = 0; i < x.length; i++) {
      if (!isFinite(x[i])) continue;
      var bin = Math.floor((Math.min(span, Math.max(-span, x[i])) + span) / width);
      counts[Math.min(BINS - 1, bin)] += 1;
    }
    for (var b = 1; b < BINS; b++) counts[b] += counts[b - 1];
    return counts;
  }

  function drawBars(ctx, f, stage, c) {
    var counts = cumulativeCounts(stage.x, stage.span), width = 2 * stage.span / BINS;
    ctx.fillStyle = c.bar;
    ctx.globalAlpha = 0.55;
    for (var b = 0; b < BINS; b++) {
      if (!counts[b]) continue;
      var x0 = f.x(-stage.span + b * width), x1 = f.x(-stage.span + (b + 1) * width);
      ctx.fillRect(x0, f.y(counts[b]), x1 - x0 + 0.5, f.y(0) - f.y(counts[b]));
    }
    ctx.globalAlpha = 1;
  }

  function curveValues(land, stage, n) {
    var xs = live.linspace(-stage.span, stage.span, n), fs = new Float64Array(n), gs = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      fs[i] = land.value(xs[i]);
      gs[i] = land.smoothed(xs[i], stage.radius);
    }
    return {xs: xs, f: fs, g: gs};
  }

  function strokeCurve(ctx, f, xs, values, scale) {
    ctx.beginPath();
    for (var i = 0; i < xs.length; i++) {
      var px = f.x(xs[i]), py = f.y(scale(values[i]));
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }

  function drawCurves(ctx, f, land, stage, top, c) {
    var n = Math.min(2400, Math.max(200, Math.round(3 * (f.box.right - f.box.left))));
    var curve = curveValues(land, stage, n), low = Infinity, high = -Infinity;
    curve.f.forEach(function (v) { low = Math.min(low, v); high = Math.max(high, v); });
    var scale = function (v) { return (v - low) / Math.max(high - low, 1e-300) * top; };
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.box.left, f.box.top, f.box.right - f.box.left, f.box.bottom - f.box.top);
    ctx.clip();
    var gd = !(stage.radius > 0);  // g is f: one curve, drawn as f
    ctx.lineWidth = gd ? 1.4 : 0.8;
    ctx.strokeStyle = c.function;
    ctx.globalAlpha = gd ? 1 : 0.75;
    strokeCurve(ctx, f, curve.xs, curve.f, scale);
    ctx.globalAlpha = 1;
    if (!gd) {
      ctx.lineWidth = 1.8;
      ctx.strokeStyle = c.smoothed;
      strokeCurve(ctx, f, curve.xs, curve.g, scale);
    }
    ctx.restore();
  }

  function drawInner(ctx, f, span, inner, c) {
    if (!(inner < span)) return;
    ctx.save();
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = c.muted;
    ctx.lineWidth = 1;
    [-inner, inner].forEach(function (v) {
      ctx.beginPath();
      ctx.moveTo(Math.round(f.x(v)) + 0.5, f.box.top);
      ctx.lineTo(Math.round(f.x(v)) + 0.5, f.box.bottom);
      ctx.stroke();
    });
    ctx.restore();
  }

  function drawDots(ctx, f, stage, c) {
    ctx.fillStyle = c.alert;
    ctx.globalAlpha = 0.7;
    for (var i = 0; i < stage.x.length; i++) {
      if (!isFinite(stage.x[i])) continue;
      var v = Math.min(stage.span, Math.max(-stage.span, stage.x[i]));
      ctx.beginPath();
      ctx.arc(f.x(v), f.y(0), 2.6, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  function drawAxes(ctx, f, span, top, c) {
    var box = f.box;
    ctx.strokeStyle = c.border;
    ctx.fillStyle = c.text;
    ctx.lineWidth = 1;
    ctx.font = '11px system-ui, -apple-system, "Segoe UI", sans-serif';
    ctx.beginPath();
    ctx.moveTo(box.left + 0.5, box.top);
    ctx.lineTo(box.left + 0.5, box.bottom + 0.5);
    ctx.lineTo(box.right, box.bottom + 0.5);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ui().ticks(-span, span, Math.max(3, Math.floor((box.right - box.left) / 70))).forEach(function (v) {
      var px = Math.round(f.x(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, box.bottom); ctx.lineTo(px, box.bottom + 4); ctx.stroke();
      ctx.fillText(fmt(v).replace('-', '−'), px, box.bottom + 7);
    });
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ui().ticks(0, top, 4).filter(function (v) { return v === Math.round(v); }).forEach(function (v) {
      var py = Math.round(f.y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(box.left - 4, py); ctx.lineTo(box.left, py); ctx.stroke();
      ctx.fillText(String(v), box.left - 7, py);
    });
  }

  function drawStage(ctx, width, height, view) {
    var stage = view.stage, top = Math.max(stage.x.length, 1);
    var f = frame(width, height, stage.span, top * 1.05), c = ui().themeColors(view.div, COLOR_VARS);
    drawBars(ctx, f, stage, c);
    drawCurves(ctx, f, view.land, stage, top, c);
    drawInner(ctx, f, stage.span, view.inner, c);
    drawAxes(ctx, f, stage.span, top, c);
    drawDots(ctx, f, stage, c);
  }

  // -- the explorer's parts -------------------------------------------------------------------

  function readConfig(div) {
    var config = ui().readConfig(div, ['settings', 'landscape', 'limits']);
    config.levels = config.levels || {};
    return config;
  }

  function noiseRange(config) {
    var levels = ['small', 'right', 'large'].map(function (k) { return config.levels[k]; })
      .concat([config.settings.noise]).filter(function (w) { return w > 0; });
    if (!levels.length) return {min: 0.01, max: 100};
    return {min: Math.min.apply(null, levels) / 8, max: Math.max.apply(null, levels) * 4};
  }

  /** The controls: the sliders' ends from the settings, what they accept from the config's
      limits (sgdlab.book.motivating_example.LIMITS). */
  function makeControls(config, state, changed) {
    var u = ui(), lim = config.limits, lr = config.settings.lr, noise = noiseRange(config);
    var on = function (key) { return function (value) { state[key] = value; changed(key); }; };
    return {
      noise: u.slider({label: 'Noise bound W', value: state.noise, min: noise.min, max: noise.max,
                       hardMin: lim.noise[0], hardMax: lim.noise[1], log: true, zero: true, digits: 3,
                       onChange: on('noise')}),
      lr: u.slider({label: 'Step size η', value: state.lr, min: lr / 16, max: lr * 16,
                    hardMin: lim.lr[0], hardMax: lim.lr[1], log: true, digits: 3, onChange: on('lr')}),
      trials: u.slider({label: 'Trials', value: state.trials, min: 1, max: lim.trials, log: true,
                        integer: true, onChange: on('trials')}),
      steps: u.slider({label: 'Steps per stage', value: state.steps, min: 1, max: lim.steps, log: true,
                       integer: true, onChange: on('steps')}),
      stages: u.slider({label: 'Stages', value: state.stages, min: 1, max: lim.stages, integer: true,
                        onChange: on('stages')}),
      seed: u.numberBox({label: 'Seed', value: state.seed, min: 0, max: Number.MAX_SAFE_INTEGER, integer: true,
                         onChange: on('seed')}),
      restart: u.select({label: 'Each later stage starts from', options: RESTARTS, value: state.restart,
                         onChange: on('restart')})
    };
  }

  function quickPicks(config, pick) {
    var levels = [{key: 'GD', label: 'GD', noise: 0}];
    [['small', 'Small'], ['right', 'Right'], ['large', 'Large']].forEach(function (p) {
      if (config.levels[p[0]] !== undefined) levels.push({key: p[0], label: p[1], noise: config.levels[p[0]]});
    });
    var buttons = levels.map(function (level) {
      var b = ui().button({label: level.label + ' (W = ' + fmt(level.noise) + ')', pressed: false,
                           title: 'Set the noise bound W to ' + fmt(level.noise),
                           onClick: function () { pick({noise: level.noise}); }});
      b.dataset.noise = String(level.noise);
      return b;
    });
    buttons.push(ui().button({label: 'Defaults', title: 'Every control back to the chapter’s settings',
                              onClick: function () { pick(Object.assign({}, config.settings)); }}));
    return buttons;
  }

  function markPressed(buttons, noise) {
    buttons.forEach(function (b) {
      if (b.dataset.noise !== undefined) b.setAttribute('aria-pressed', String(Number(b.dataset.noise) === noise));
    });
  }

  function legend(inner) {
    var el = ui().el, items = [
      ['function', 'f (scaled to the bars)'], ['smoothed', 'g: f smoothed over radius ηW'],
      ['alert', 'final iterates'], ['bar', 'cumulative count from the left'], ['inner', '±' + fmt(inner)]
    ];
    return el('ul', {class: 'sgdlab-live-legend', 'aria-hidden': 'true'}, items.map(function (item) {
      return el('li', {}, [el('span', {class: 'sgdlab-live-swatch sgdlab-live-swatch-' + item[0]}), item[1]]);
    }));
  }

  function statsTable(result) {
    var el = ui().el, s = result.settings, inner = fmt(s.inner);
    var head = ['Stage', 'W', 'η', 'radius ηW', 'within [−' + inner + ',\u00a0' + inner + ']',
                'in spurious basins of g', '… and within ' + inner, 'diverged'];
    var rows = result.stages.map(function (st, k) {
      return [String(k + 1), fmt(st.noise), fmt(st.lr), fmt(st.radius), percent(st.within),
              percent(st.spurious), percent(st.spuriousInside), String(st.diverged)];
    });
    return el('table', {class: 'sgdlab-live-table'}, [
      el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', {scope: 'col', text: h}); }))]),
      el('tbody', {}, rows.map(function (r) {
        return el('tr', {}, r.map(function (v, i) { return el(i ? 'td' : 'th', {scope: i ? undefined : 'row', text: v}); }));
      }))
    ]);
  }

  function summaryText(result, wallMs) {
    var s = result.settings;
    return s.trials + ' trials × ' + s.steps + ' steps × ' + result.stages.length +
      (result.stages.length === 1 ? ' stage' : ' stages') + ', computed in your browser in ' +
      Math.round(result.ms) + ' ms (' + Math.round(wallMs) + ' ms until drawn).';
  }

  function plainResult(result) {
    return {
      settings: JSON.parse(JSON.stringify(result.settings)), ms: result.ms,
      stages: result.stages.map(function (st) {
        var out = Object.assign({}, st);
        out.x = Array.from(st.x);
        return out;
      })
    };
  }

  // -- one mounted explorer -------------------------------------------------------------------

  function Explorer(div, config) {
    var u = ui(), el = u.el, self = this;
    this.div = div;
    this.config = config;
    this.state = Object.assign(JSON.parse(JSON.stringify(live.DEFAULTS || {})), config.settings, config.landscape);
    this.result = null;
    this.panels = [];
    this.schedule = u.debounce(function () { self.run(); }, DEBOUNCE_MS);
    this.controls = makeControls(config, this.state, function (key) { self.changed(key); });
    this.buttons = quickPicks(config, function (partial) { self.set(partial); });
    this.progress = u.progress('Computing the runs');
    this.status = el('p', {class: 'sgdlab-live-status'});
    this.grid = el('div', {class: 'sgdlab-live-panels'});
    this.numbers = el('div', {class: 'sgdlab-live-numbers', 'aria-live': 'polite'});
    var c = this.controls;
    this.root = el('div', {class: 'sgdlab-live-app', role: 'group',
                           'aria-label': 'Live explorer: SGD on the spiky f from random starts'}, [
      el('div', {class: 'sgdlab-live-controls'}, [c.noise.root, c.lr.root, c.trials.root, c.steps.root,
                                                   c.stages.root, c.restart.root, c.seed.root]),
      el('div', {class: 'sgdlab-live-buttons', role: 'group', 'aria-label': 'Quick picks of the noise'}, this.buttons),
      el('div', {class: 'sgdlab-live-state'}, [this.progress.root, this.status]),
      legend(this.state.inner), this.grid, this.numbers
    ]);
    this.runs = u.runner({root: this.root, progress: this.progress, status: this.status,
                          busyTarget: this.grid});
    markPressed(this.buttons, this.state.noise);
  }

  Explorer.prototype.changed = function (key) {
    if (key === 'noise') markPressed(this.buttons, this.state.noise);
    this.schedule();
  };

  /** Applies every setting of `partial` or, when one is refused (it names the setting), none. */
  Explorer.prototype.apply = function (partial) {
    var before = JSON.parse(JSON.stringify(this.state));
    try {
      this.applyEach(partial);
    } catch (err) {
      this.applyEach(before);
      throw err;
    }
  };

  Explorer.prototype.applyEach = function (partial) {
    var self = this;
    Object.keys(partial || {}).forEach(function (key) {
      if (!(key in self.state)) throw new Error('unknown setting "' + key + '"; settings are ' + Object.keys(self.state).join(', '));
      var control = self.controls[key], value = partial[key];
      if (key === 'restart' && !RESTARTS.some(function (r) { return r.value === value; })) {
        throw new TypeError('restart must be "new" or "continue", got ' + JSON.stringify(value));
      }
      if (control && key !== 'restart' && !(typeof value === 'number' && isFinite(value))) {
        throw new TypeError(key + ' must be a finite number, got ' + JSON.stringify(value));
      }
      self.state[key] = control ? control.set(value) : value;
    });
    markPressed(this.buttons, this.state.noise);
  };

  /** Sets some settings (the controls follow) and runs; resolves with the result of the first
      run that includes them. */
  Explorer.prototype.set = function (partial) {
    try { this.apply(partial); } catch (err) { return Promise.reject(err); }
    this.schedule.cancel();
    var waiting = this.runs.next();
    this.run();
    return waiting;
  };

  Explorer.prototype.run = function () {
    var self = this, settings = JSON.parse(JSON.stringify(this.state));
    return this.runs.start(function (hooks) { return live.runExplorerAsync(settings, hooks); },
                           function (result, wallMs) {
                             self.result = result;
                             self.render(result);
                             return {text: summaryText(result, wallMs), value: result};
                           });
  };

  Explorer.prototype.panel = function () {
    var el = ui().el, self = this, caption = el('figcaption', {});
    var figure = el('figure', {class: 'sgdlab-live-panel'}, [caption]);
    var view = {div: this.div, land: null, stage: null, inner: 1.5};
    var handle = ui().canvas(figure, {height: PANEL_HEIGHT, label: '', draw: function (ctx, w, h) {
      if (view.stage) drawStage(ctx, w, h, view);
    }});
    self.grid.appendChild(figure);
    return {figure: figure, caption: caption, view: view, handle: handle};
  };

  Explorer.prototype.render = function (result) {
    var self = this, s = result.settings;
    var land = live.spiky({beta: s.beta, period: s.period, growth: s.growth, width: s.width});
    while (this.panels.length > result.stages.length) {
      var gone = this.panels.pop();
      gone.handle.disconnect();
      gone.figure.remove();
    }
    while (this.panels.length < result.stages.length) this.panels.push(this.panel());
    this.grid.dataset.stages = String(result.stages.length);
    result.stages.forEach(function (stage, k) {
      var p = self.panels[k];
      p.view.land = land;
      p.view.stage = stage;
      p.view.inner = s.inner;
      p.caption.textContent = stageCaption(s, k, stage);
      p.handle.setLabel(canvasLabel(s, k, stage));
      p.handle.redraw();
    });
    this.numbers.textContent = '';
    this.numbers.appendChild(statsTable(result));
  };

  Explorer.prototype.redraw = function () {
    this.panels.forEach(function (p) { p.handle.redraw(); });
  };

  Explorer.prototype.api = function () {
    var self = this;
    return {
      kind: 'motivating', element: this.div,
      set: function (partial) { return self.set(partial); },
      settings: function () { return JSON.parse(JSON.stringify(self.state)); },
      last: function () { return self.result ? plainResult(self.result) : null; }
    };
  };

  // -- mounting -------------------------------------------------------------------------------

  function build(div) {
    if (!live.runExplorerAsync || !live.spiky) throw new Error('core.js must load before motivating.js');
    var explorer = new Explorer(div, readConfig(div));
    div.appendChild(explorer.root);
    return explorer;
  }

  live.motivating = {cumulativeCounts: cumulativeCounts};
  if (live.ui) Object.assign(live.motivating, live.ui.mountEach(SELECTOR, 'motivating', build));
  else if (root.console) root.console.error('sgdlab live explorer (motivating): ui.js must load first');
})(typeof self !== 'undefined' ? self : this);
