/* sgdlabLive.ui: small building blocks of the book's live explorers (plain JavaScript, no
   libraries). Labelled controls (a slider with its number box, linear or logarithmic; a number
   box; a select; a button), a HiDPI canvas that follows its container's width, lines and a
   legend on it, the one number format of the explorers, the colours of the
   pydata-sphinx-theme (CSS variables) with a watcher of the light/dark switch, a progress bar,
   a debounce, a runner of cancellable runs and the mounting of every explorer. Every control is
   a real <input>/<select>/<button> with a <label>, so the keyboard and screen readers work as
   they do on any form. In node, module.exports (the formatting, for the explorers' formulas). */
(function (root) {
  'use strict';

  var live = root.sgdlabLive = root.sgdlabLive || {};
  var counter = 0;

  /** A fresh id for a label's `for` (prefix-N). */
  function uid(prefix) {
    counter += 1;
    return (prefix || 'sgdlab-live') + '-' + counter;
  }

  /** An element: el('div', {class: 'x', text: 'y', onclick: f}, [children]). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** A number for the reader, to at most `digits` significant digits (default 3) without
      trailing zeros: 12.5, 0.004, 1.23e-4 and 2e+5 (below 1e-3 or from 1e5 on, in exponent
      form), \u221e and \u2212\u221e, and "undefined" for NaN. */
  function formatNumber(value, digits) {
    if (value === Infinity) return '\u221e';
    if (value === -Infinity) return '\u2212\u221e';
    if (value !== value) return 'undefined';
    var rounded = Number(value.toPrecision(digits || 3));
    if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return rounded.toExponential();
    return String(rounded);
  }

  /** A share in [0, 1] as a percentage to `digits` significant digits (default 3), "\u2013"
      when it is not a number. */
  function percent(share, digits) {
    return isFinite(share) ? formatNumber(100 * share, digits) + '%' : '\u2013';
  }

  function clamp(value, low, high) {
    return Math.min(high, Math.max(low, value));
  }

  /** How a slider's position (0..STOPS) maps to a value: linear, or logarithmic with an
      optional stop for 0 at the left end (`zero`). */
  var STOPS = 1000;
  var SHOWN_DIGITS = 6;  // a number box shows this many significant digits (the value is exact)

  function makeScale(opts) {
    if (!opts.log) {
    var width = opts.max - opts.min || 1;
    return {
        toValue: function (pos) { return opts.min + width * pos / STOPS; },
        toPosition: function (v) { return STOPS * (v - opts.min) / width; }
      };
    }
    var first = opts.zero ? 1 : 0;
    var lo = Math.log(opts.min), hi = Math.log(opts.max);
    return {
      toValue: function (pos) {
        if (opts.zero && pos < first) return 0;
        return Math.exp(lo + (hi - lo) * (pos - first) / (STOPS - first));
      },
      toPosition: function (v) {
        if (opts.zero && v <= 0) return 0;
        return first + (STOPS - first) * (Math.log(Math.max(v, opts.min)) - lo) / (hi - lo);
      }
    };
  }

  /** Rounds a value the way the control shows it (integers, or `digits` significant ones). */
  function makeRounder(opts) {
    return function (value) {
      if (opts.integer) return Math.round(value);
      return value === 0 ? 0 : Number(value.toPrecision(opts.digits || 3));
    };
  }

  /** The next value the control can show after `value`, in `direction` (+1 or -1): a slider
      stop too small to change the rounded value still moves it (arrow keys never stick). */
  function makeNudge(opts, round) {
    return function (value, direction) {
      if (opts.integer) return value + direction;
      if (value === 0) return direction > 0 ? opts.min : 0;
      var unit = Math.pow(10, Math.floor(Math.log10(Math.abs(value))) - ((opts.digits || 3) - 1));
      var next = round(value + direction * unit);
      if (opts.zero && next < opts.min && direction < 0) return 0;
      return clamp(next, Math.min(opts.min, value), Math.max(opts.max, value));
    };
  }

  /**
   * A labelled slider with its number box. opts: label, value, min, max (the slider's ends),
   * hardMin, hardMax (what the number box accepts; default min, max), log, zero, integer,
   * digits, step (number box), help (text after the label), onChange(value).
   * Returns {root, get(), set(value) -> the value kept, range, number}.
   */
  function slider(opts) {
    var id = uid('sgdlab-live-control');
    var scale = makeScale(opts), round = makeRounder(opts), nudge = makeNudge(opts, round);
    var low = opts.hardMin !== undefined ? opts.hardMin : opts.min;
    var high = opts.hardMax !== undefined ? opts.hardMax : opts.max;
    var current = opts.value;
    var range = el('input', {type: 'range', min: 0, max: STOPS, step: 1,
                             'aria-label': opts.label + ' (slider)'});
    var number = el('input', {type: 'number', id: id, min: low, max: high,
                              step: opts.step || (opts.integer ? 1 : 'any'),
                              inputmode: opts.integer ? 'numeric' : 'decimal'});

    function show(value) {
      range.value = String(Math.round(clamp(scale.toPosition(value), 0, STOPS)));
      range.setAttribute('aria-valuetext', formatNumber(value, 4));
      number.value = opts.integer ? String(value) : formatNumber(value, SHOWN_DIGITS);
    }
    function keep(value) {  // a reader's value: whole if integer, clamped to the limits
      current = clamp(opts.integer ? Math.round(value) : value, low, high);
      show(current);
      return current;
    }
    function changed(value) {
      var before = current;
      keep(value);
      if (current !== before && opts.onChange) opts.onChange(current);
    }
    range.addEventListener('input', function () {  // the slider's stops: rounded values
      var position = Number(range.value), value = round(scale.toValue(position));
      if (value === current) value = nudge(current, position > scale.toPosition(current) ? 1 : -1);
      changed(value);
    });
    number.addEventListener('change', function () {  // typed: kept as typed
      var value = Number(number.value);
      if (number.value === '' || !isFinite(value)) show(current);
      else changed(value);
    });
    keep(current);
    var label = el('label', {for: id, text: opts.label});
    var row = el('div', {class: 'sgdlab-live-pair'}, [range, number]);
    var node = el('div', {class: 'sgdlab-live-control'},
                  [label, opts.help ? el('span', {class: 'sgdlab-live-help', text: opts.help}) : null, row]);
    return {root: node, range: range, number: number,
            get: function () { return current; }, set: exactly(opts.label, low, high, opts.integer, keep)};
  }

  /** A control's set() for programs: the value exactly as given, or an error naming the
      control when it is out of the limits (or not whole where it must be). */
  function exactly(label, low, high, integer, keep) {
    return function (value) {
      if (typeof value !== 'number' || !(value >= low && value <= high) ||
          (integer && !Number.isInteger(value))) {
        throw new RangeError(label + ' must be ' + (integer ? 'a whole number' : 'a number') +
                             ' in [' + low + ', ' + high + '], got ' + JSON.stringify(value));
      }
      return keep(value);
    };
  }

  /** A labelled number box alone (a seed): opts label, value, min, max, integer, onChange. */
  function numberBox(opts) {
    var id = uid('sgdlab-live-control'), current = opts.value;
    var input = el('input', {type: 'number', id: id, min: opts.min, max: opts.max,
                             step: opts.integer ? 1 : 'any'});
    function keep(value) {
      current = clamp(opts.integer ? Math.round(value) : value, opts.min, opts.max);
      input.value = opts.integer ? String(current) : formatNumber(current, SHOWN_DIGITS);
      return current;
    }
    input.addEventListener('change', function () {
      var value = Number(input.value), before = current;
      if (input.value === '' || !isFinite(value)) { keep(current); return; }
      keep(value);
      if (current !== before && opts.onChange) opts.onChange(current);
    });
    keep(current);
    var node = el('div', {class: 'sgdlab-live-control'},
                  [el('label', {for: id, text: opts.label}), input]);
    return {root: node, input: input, get: function () { return current; },
            set: exactly(opts.label, opts.min, opts.max, opts.integer, keep)};
  }

  /** A labelled select: opts label, options [{value, label}], value, onChange(value). */
  function select(opts) {
    var id = uid('sgdlab-live-control');
    var input = el('select', {id: id}, opts.options.map(function (o) {
      return el('option', {value: o.value, text: o.label});
    }));
    function keep(value) {
      input.value = value;
      return input.value;
    }
    input.addEventListener('change', function () {
      if (opts.onChange) opts.onChange(input.value);
    });
    keep(opts.value);
    var node = el('div', {class: 'sgdlab-live-control'},
                  [el('label', {for: id, text: opts.label}), input]);
    return {root: node, input: input, get: function () { return input.value; }, set: keep};
  }

  /** A button: opts label, title, onClick, pressed (adds aria-pressed, a toggle's state). */
  function button(opts) {
    return el('button', {type: 'button', class: 'sgdlab-live-button', text: opts.label,
                         title: opts.title, onclick: opts.onClick,
                         'aria-pressed': opts.pressed === undefined ? undefined : String(!!opts.pressed)});
  }

  /**
   * A canvas drawn at the screen's pixel density: as wide as its container (the CSS makes it
   * so) and `height` CSS px high, or of the size `size(containerWidth) -> [width, height]`.
   * opts: height or size, label (aria-label), attrs (more attributes), draw(ctx, width, height)
   * in CSS pixels. Redraws when the container's width changes. Returns {canvas, redraw(),
   * setLabel(text), disconnect()}.
   */
  function canvas(container, opts) {
    var node = el('canvas', Object.assign({role: 'img', 'aria-label': opts.label || ''}, opts.attrs));
    if (!opts.size) node.style.height = opts.height + 'px';
    container.appendChild(node);
    var width = 0;

    /** The CSS size now: [width, height]. */
    function cssSize() {
      if (!opts.size) {
        return [Math.max(1, Math.floor(node.getBoundingClientRect().width || container.clientWidth)), opts.height];
      }
      var size = opts.size(container.clientWidth);
      node.style.width = size[0] + 'px';
      node.style.height = size[1] + 'px';
      return size;
    }
    /** What a resize is measured on: the canvas's own width, or its container's. */
    function watched() {
      return Math.floor(opts.size ? container.clientWidth : node.getBoundingClientRect().width);
    }
    function redraw() {
      var size = cssSize(), ratio = root.devicePixelRatio || 1;
      width = watched();
      node.width = Math.round(size[0] * ratio);
      node.height = Math.round(size[1] * ratio);
      var ctx = node.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size[0], size[1]);
      opts.draw(ctx, size[0], size[1]);
    }
    var observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(function () {
      var now = watched();
      if (now && now !== width) redraw();
    });
    if (observer) observer.observe(container);
    return {
      canvas: node, redraw: redraw,
      setLabel: function (text) { node.setAttribute('aria-label', text); },
      disconnect: function () { if (observer) observer.disconnect(); }
    };
  }

  /** The page's theme: "dark" or "light" (pydata-sphinx-theme's data-theme). */
  function theme() {
    return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
  }

  var FALLBACK = {
    light: {text: '#222832', muted: '#48566b', background: '#fff', surface: '#f3f4f5',
            border: '#d1d5da', primary: '#0a7d91'},
    dark: {text: '#ced6dd', muted: '#9ca4af', background: '#14181e', surface: '#29313d',
           border: '#48566b', primary: '#3fb1c5'}
  };

  /** The value of a CSS custom property on `node` (or the fallback when unset). */
  function cssVar(node, name, fallback) {
    var value = getComputedStyle(node || document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  /** The theme's colours, read now: text, muted, background, surface, border, primary (from
      the --pst-color-* variables, with the theme's own values when the page has none), and an
      explorer's own `extra` colours ({key: [CSS variable, fallback]}). */
  function themeColors(node, extra) {
    var base = FALLBACK[theme()], out = {};
    Object.keys(base).forEach(function (key) {
      var name = key === 'text' ? 'text-base' : key === 'muted' ? 'text-muted' : key;
      out[key] = cssVar(node, '--pst-color-' + name, base[key]);
    });
    Object.keys(extra || {}).forEach(function (key) {
      out[key] = cssVar(node, extra[key][0], extra[key][1]);
    });
    return out;
  }

  /** Calls `callback(theme)` whenever the page switches between light and dark; returns a
      function that stops watching. */
  function onThemeChange(callback) {
    var last = theme();
    var observer = new MutationObserver(function () {
      var now = theme();
      if (now !== last) { last = now; callback(now); }
    });
    observer.observe(document.documentElement, {attributes: true, attributeFilter: ['data-theme']});
    return function () { observer.disconnect(); };
  }

  /** A progress bar with its text: {root, set(fraction), show(), hide()}; hidden at first. */
  function progress(label) {
    var id = uid('sgdlab-live-progress');
    var bar = el('progress', {id: id, max: 1, value: 0});
    var text = el('span', {class: 'sgdlab-live-progress-text'});
    var node = el('div', {class: 'sgdlab-live-progress', hidden: true},
                  [el('label', {for: id, text: label || 'Computing'}), bar, text]);
    return {
      root: node,
      set: function (fraction) {
        bar.value = clamp(fraction, 0, 1);
        text.textContent = Math.round(100 * bar.value) + '%';
      },
      show: function () { node.hidden = false; },
      hide: function () { node.hidden = true; }
    };
  }

  /** `fn` called once, `ms` after the last of a burst of calls (with the last arguments). */
  function debounce(fn, ms) {
    var timer = null;
    function debounced() {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn.apply(self, args); }, ms);
    }
    debounced.cancel = function () { clearTimeout(timer); timer = null; };
    return debounced;
  }

  /** A list of named numbers, <dl class=className> with a <dt> label and a <dd
      data-number=key> per row [key, label, ...]: {node, cells: {key: dd}}. */
  function numberList(className, rows) {
    var cells = {}, list = el('dl', {class: className});
    rows.forEach(function (row) {
      cells[row[0]] = el('dd', {'data-number': row[0]});
      list.appendChild(el('dt', {text: row[1]}));
      list.appendChild(cells[row[0]]);
    });
    return {node: list, cells: cells};
  }

  /** A polyline through `points` ([[x, y], ...], CSS px) in `colour`, dashed by `dash`
      (canvas setLineDash), `width` px wide (default 1.2). */
  function line(ctx, points, colour, dash, width) {
    ctx.strokeStyle = colour; ctx.setLineDash(dash || []); ctx.lineWidth = width || 1.2;
    ctx.beginPath();
    points.forEach(function (p, k) { if (k) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); });
    ctx.stroke(); ctx.setLineDash([]);
  }

  var LEGEND_ROW = 15, LEGEND_WIDTH = 146;

  /** A legend in a corner ('upper left', 'upper right' or 'lower right') of the plot box `box`
      ({left, right, top, bottom}, CSS px): per item [label, colour, dash], a short line and the
      label, on the background colour; `col` has text and background. */
  function legend(ctx, box, items, col, corner) {
    var x = corner === 'upper left' ? box.left + 8 : box.right - LEGEND_WIDTH - 4;
    var y = corner === 'lower right' ? box.bottom - LEGEND_ROW * items.length - 8 : box.top + 6;
    ctx.font = '11px sans-serif';
    ctx.globalAlpha = 0.85; ctx.fillStyle = col.background;
    ctx.fillRect(x - 4, y - 2, LEGEND_WIDTH, LEGEND_ROW * items.length + 6);
    ctx.globalAlpha = 1;
    items.forEach(function (item, k) {
      var at = y + 6 + LEGEND_ROW * k;
      line(ctx, [[x, at], [x + 18, at]], item[1], item[2], 1.6);
      ctx.fillStyle = col.text; ctx.fillText(item[0], x + 23, at + 4);
    });
  }

  /** Round tick values (1, 2, 5 times a power of ten) covering [low, high], about `count`. */
  function ticks(low, high, count) {
    var raw = (high - low) / Math.max(1, count || 5);
    if (!(raw > 0)) return [low];
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * power; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    }
    return out;
  }

  /**
   * The runs of one explorer: each run supersedes the one before (a generation counter, so a
   * stale run is cancelled and never drawn). opts: root (gets class is-busy while running),
   * progress (a progress()), status (an element for the text), busyTarget (optional, gets
   * aria-busy), progressAfterMs (default 150: shorter runs show no progress bar).
   * Returns {next() -> Promise of the first run started from now on, start(compute, finish)}:
   * compute({onProgress, isCancelled}) -> Promise of a result (null when cancelled);
   * finish(result, wallMs) draws it and returns {text, value} (value resolves next()).
   */
  function runner(opts) {
    var generation = 0, waiters = [];
    function settle(g, value, error) {
      waiters = waiters.filter(function (w) {
        if (w.generation > g) return true;
        if (error) w.reject(error); else w.resolve(value);
        return false;
      });
    }
    function busy(g) {
      opts.root.classList.add('is-busy');
      if (opts.busyTarget) opts.busyTarget.setAttribute('aria-busy', 'true');
      opts.status.textContent = 'Computing\u2026';
      opts.progress.set(0);
      setTimeout(function () {
        if (g === generation && opts.root.classList.contains('is-busy')) opts.progress.show();
      }, opts.progressAfterMs || 150);
    }
    function idle(text) {
      opts.root.classList.remove('is-busy');
      if (opts.busyTarget) opts.busyTarget.removeAttribute('aria-busy');
      opts.progress.hide();
      opts.status.textContent = text;
    }
    function next() {
      var g = generation + 1;
      return new Promise(function (resolve, reject) {
        waiters.push({generation: g, resolve: resolve, reject: reject});
      });
    }
    function start(compute, finish) {
      var g = ++generation, started = performance.now();
      var current = function () { return g === generation; };
      busy(g);
      return compute({
        onProgress: function (fraction) { if (current()) opts.progress.set(fraction); },
        isCancelled: function () { return !current(); }
      }).then(function (result) {
        if (!result || !current()) return;
        var shown = finish(result, performance.now() - started);
        idle(shown.text);
        settle(g, shown.value);
      }).catch(function (err) {
        if (!current()) return;
        idle('The run failed: ' + (err && err.message ? err.message : err));
        settle(g, null, err);
      });
    }
    return {next: next, start: start};
  }

  /** The config that sgdlab.book.live wrote into div's data-config (JSON), which must hold
      every key of `required`. */
  function readConfig(div, required) {
    var config = JSON.parse(div.getAttribute('data-config') || 'null');
    var missing = (required || []).filter(function (key) { return !config || config[key] == null; });
    if (!config || typeof config !== 'object' || missing.length) {
      throw new Error('data-config must hold ' + required.join(', ') + '; ' +
                      (config ? 'missing ' + missing.join(', ') : 'got ' + div.getAttribute('data-config')));
    }
    return config;
  }

  /**
   * Mounts an explorer on every element matching `selector` once the page has loaded.
   * build(div) makes the explorer and appends its root to div; it returns an object with
   * api() (what tests and readers' scripts call, pushed to sgdlabLive.mounted and kept as
   * div.sgdlabExplorer), redraw() (on a theme change) and run() (the first run). If build
   * throws, whatever it appended goes and the static picture stays. Returns {mount, mountAll}.
   */
  function mountEach(selector, kind, build) {
    function statics(div, hidden) {
      div.querySelectorAll('img.sgdlab-live-static').forEach(function (img) { img.hidden = hidden; });
    }
    function mount(div) {
      if (div.sgdlabExplorer) return div.sgdlabExplorer;
      var before = div.childNodes.length;
      try {
        var explorer = build(div);
        div.classList.add('is-mounted');
        statics(div, true);
        onThemeChange(function () { explorer.redraw(); });
        var api = div.sgdlabExplorer = explorer.api();
        (live.mounted = live.mounted || []).push(api);
        explorer.run();
        return api;
      } catch (err) {
        while (div.childNodes.length > before) div.removeChild(div.lastChild);
        div.classList.remove('is-mounted');
        statics(div, false);
        if (root.console) root.console.error('sgdlab live explorer (' + kind + ') not mounted:', err);
        return null;
      }
    }
    function mountAll() {
      Array.prototype.forEach.call(document.querySelectorAll(selector), mount);
    }
    if (typeof document !== 'undefined') {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
      else mountAll();
    }
    return {mount: mount, mountAll: mountAll};
  }

  live.ui = {
    uid: uid, el: el, formatNumber: formatNumber, percent: percent, clamp: clamp, slider: slider,
    numberBox: numberBox, select: select, button: button, numberList: numberList,
    canvas: canvas, line: line,
    legend: legend, theme: theme, cssVar: cssVar, themeColors: themeColors,
    onThemeChange: onThemeChange, progress: progress, debounce: debounce, ticks: ticks,
    runner: runner, readConfig: readConfig, mountEach: mountEach
  };
  if (typeof module !== 'undefined' && module.exports) module.exports = live.ui;
})(typeof self !== 'undefined' ? self : this);
