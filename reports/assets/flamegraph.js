/*
 * flamebill flame graphs: a canvas icicle (root at the top) for every [data-flamegraph] element.
 *
 * Hand-written rather than a library because the data is already laid out for it: the server sends columnar arrays in
 * depth-first pre-order (flameGraphJson / flameGraphDiffJson in src/domain/profile/tree/tree-flame-graph.ts), so
 * layout is one forward pass over typed arrays, a subtree is the index range after its node (zoom, search and culling
 * skip whole subtrees), and nothing is converted into per-node objects. The libraries we looked at (flame-chart-js,
 * d3-flame-graph, speedscope's renderer) want nested objects or their own profile model, need a build step or d3, and
 * are not installed here; this file is about 600 lines with no dependency, served as is under the app's CSP (no
 * inline script, no eval).
 *
 * Markup: <div data-flamegraph data-src="/api/...json"></div>, or data-island="<id of a <script
 * type="application/json">>"; data-diff on a differential graph (the JSON's kind says so too); data-title names it.
 * The element gets a toolbar (search, reset), the canvas (focusable: arrows move the selection, Enter zooms, Escape
 * resets), a tooltip, a summary line (also the canvas's aria-label), a live region announcing the selection and, in
 * diff mode, a legend. When drawn: data-ready="true" and a performance mark "flamegraph-ready"; after a zoom,
 * data-zoom="<function name>" (absent at the root).
 *
 * element.flamegraph (for tests and page scripts): zoomedNode(), selectedNode(), nodeAt(x, y) (CSS pixels in the
 * canvas), node(index), find(name), box(index), search(q), zoom(index), reset(), select(index): plain data in and out,
 * driving the same code as the UI (search, zoom and reset redraw at once instead of on the next animation frame).
 */
(function () {
  'use strict';

  var ROW = 18;
  var FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  var MIN_PX = 0.35; // narrower boxes (and their subtrees) are not drawn
  var MAX_CSS_HEIGHT = 16000;
  var CHANGE = ['same', 'grew', 'shrank', 'new', 'gone'];

  function mountAll(root) {
    var els = (root || document).querySelectorAll('[data-flamegraph]');
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  function mount(el) {
    if (el.flamegraph || el.getAttribute('data-state') === 'loading') return;
    el.setAttribute('data-state', 'loading');
    load(el)
      .then(function (data) {
        el.removeAttribute('data-state');
        create(el, data);
      })
      .catch(function (err) {
        el.setAttribute('data-state', 'error');
        var p = document.createElement('p');
        p.className = 'flamegraph-error';
        p.setAttribute('role', 'alert');
        p.textContent = 'The flame graph could not be loaded: ' + (err && err.message ? err.message : String(err));
        el.appendChild(p);
      });
  }

  function load(el) {
    var island = el.getAttribute('data-island');
    if (island) {
      var script = document.getElementById(island);
      if (!script) return Promise.reject(new Error('no data island #' + island));
      try {
        return Promise.resolve(JSON.parse(script.textContent));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    var src = el.getAttribute('data-src');
    if (!src) return Promise.reject(new Error('neither data-src nor data-island is set'));
    return fetch(src, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status + ' from ' + src);
      return r.json();
    });
  }

  /** Typed-array model of the JSON: width (drawn), x offset, depth and subtree end per node. */
  function model(data, diff) {
    if (!data || data.version !== 1 || !Array.isArray(data.parent)) throw new Error('not a flame graph (version 1)');
    var n = data.parent.length;
    var parent = Int32Array.from(data.parent);
    var name = Int32Array.from(data.name);
    var width = new Float64Array(n);
    var delta = null;
    var maxDelta = 0;
    if (diff) {
      delta = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        var b = data.base.share[i];
        var c = data.current.share[i];
        width[i] = (b + c) / 2;
        delta[i] = c - b;
        if (i > 0 && Math.abs(delta[i]) > maxDelta) maxDelta = Math.abs(delta[i]);
      }
    } else {
      for (var j = 0; j < n; j++) width[j] = data.value[j];
    }
    var x = new Float64Array(n);
    var next = new Float64Array(n);
    var depth = new Int32Array(n);
    var maxDepth = 0;
    for (var k = 1; k < n; k++) {
      var p = parent[k];
      if (!(p >= 0 && p < k)) throw new Error('node ' + k + ' comes before its parent');
      x[k] = next[p];
      next[p] += width[k];
      next[k] = x[k];
      depth[k] = depth[p] + 1;
      if (depth[k] > maxDepth) maxDepth = depth[k];
    }
    var end = new Int32Array(n);
    for (var e = n - 1; e >= 0; e--) {
      if (end[e] < e + 1) end[e] = e + 1;
      if (e > 0 && end[parent[e]] < end[e]) end[parent[e]] = end[e];
    }
    // Nodes per depth in index order: pre-order visits one depth left to right, so each list is sorted by x.
    var counts = new Int32Array(maxDepth + 2);
    for (var d = 0; d < n; d++) counts[depth[d] + 1]++;
    for (var c2 = 0; c2 <= maxDepth; c2++) counts[c2 + 1] += counts[c2];
    var byDepthStart = counts.slice(0, maxDepth + 2);
    var fill = counts.slice(0, maxDepth + 1);
    var byDepth = new Int32Array(n);
    for (var q = 0; q < n; q++) byDepth[fill[depth[q]]++] = q;
    return {
      n: n,
      data: data,
      diff: diff,
      names: data.names,
      parent: parent,
      name: name,
      width: width,
      x: x,
      depth: depth,
      maxDepth: maxDepth,
      end: end,
      byDepth: byDepth,
      byDepthStart: byDepthStart,
      delta: delta,
      maxDelta: maxDelta,
    };
  }

  // ---- formatting ---------------------------------------------------------------------------------------------------

  var numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

  function formatValue(v, unit) {
    var a = Math.abs(v);
    if (unit === 'nanoseconds') {
      if (a >= 3600e9) return numberFormat.format(v / 3600e9) + ' h';
      if (a >= 60e9) return numberFormat.format(v / 60e9) + ' min';
      if (a >= 1e9) return numberFormat.format(v / 1e9) + ' s';
      if (a >= 1e6) return numberFormat.format(v / 1e6) + ' ms';
      if (a >= 1e3) return numberFormat.format(v / 1e3) + ' µs';
      return numberFormat.format(v) + ' ns';
    }
    if (unit === 'bytes') {
      var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      var u = 0;
      while (a >= 1024 && u < units.length - 1) {
        a /= 1024;
        v /= 1024;
        u++;
      }
      return numberFormat.format(v) + ' ' + units[u];
    }
    return numberFormat.format(v) + (unit && unit !== 'count' ? ' ' + unit : '');
  }

  function formatShare(s) {
    var p = s * 100;
    var digits = Math.abs(p) >= 10 ? 1 : 2;
    return p.toFixed(digits) + ' %';
  }

  function formatPoints(d) {
    var p = d * 100;
    return (p > 0 ? '+' : p < 0 ? '−' : '±') + Math.abs(p).toFixed(2) + ' pp';
  }

  function hashName(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  // ---- the component ------------------------------------------------------------------------------------------------

  function create(el, data) {
    var diff = data.kind === 'diff';
    if (el.hasAttribute('data-diff') && !diff)
      throw new Error('data-diff needs a differential flame graph (kind "diff")');
    var m = model(data, diff);
    var unit = data.sampleType ? data.sampleType.unit : '';
    var typeLabel = data.sampleType ? data.sampleType.type + (unit ? ', ' + unit : '') : 'value';
    var title =
      el.getAttribute('data-title') ||
      (diff ? 'Differential flame graph' : 'Flame graph') +
        (typeof data.subject === 'string' && data.subject ? ' of ' + data.subject : '');
    // The function a page wants seen (a regression's): its frames get a dashed outline.
    var focus = el.getAttribute('data-focus') || (typeof data.focus === 'string' ? data.focus : '');
    m.focus = focus ? m.names.indexOf(focus) : -1;
    var uid = 'fg' + Math.random().toString(36).slice(2, 9);

    var colors = nodeColors(m);
    var state = { zoom: 0, selected: -1, matches: null, hover: -1, cssWidth: 0, scale: 1, frame: 0 };

    el.textContent = '';
    el.classList.add('flamegraph');

    var toolbar = div('flamegraph-toolbar');
    var searchLabel = document.createElement('label');
    searchLabel.className = 'flamegraph-search';
    searchLabel.htmlFor = uid + '-search';
    searchLabel.appendChild(document.createTextNode('Search functions '));
    var searchInput = document.createElement('input');
    searchInput.type = 'search';
    searchInput.id = uid + '-search';
    searchInput.autocomplete = 'off';
    searchInput.spellcheck = false;
    searchInput.placeholder = 'name or part of it';
    searchLabel.appendChild(searchInput);
    var resetButton = document.createElement('button');
    resetButton.type = 'button';
    resetButton.className = 'flamegraph-reset';
    resetButton.textContent = 'Reset zoom';
    var matchStatus = document.createElement('span');
    matchStatus.className = 'flamegraph-match';
    matchStatus.setAttribute('aria-live', 'polite');
    toolbar.appendChild(searchLabel);
    toolbar.appendChild(resetButton);
    toolbar.appendChild(matchStatus);
    el.appendChild(toolbar);

    if (diff || m.focus >= 0) el.appendChild(legend(m));

    var summary = document.createElement('p');
    summary.className = 'flamegraph-summary';
    summary.id = uid + '-summary';
    summary.textContent = summaryText(m, title, typeLabel, unit);
    el.appendChild(summary);

    var viewport = div('flamegraph-viewport');
    var canvas = document.createElement('canvas');
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute(
      'aria-label',
      summary.textContent + ' Arrow keys move the selection, Enter zooms into it, Escape resets the zoom.',
    );
    canvas.setAttribute('aria-describedby', uid + '-selection');
    var tooltip = div('flamegraph-tooltip');
    tooltip.setAttribute('role', 'tooltip');
    tooltip.hidden = true;
    viewport.appendChild(canvas);
    viewport.appendChild(tooltip);
    el.appendChild(viewport);

    var live = div('flamegraph-selection visually-hidden');
    live.id = uid + '-selection';
    live.setAttribute('aria-live', 'polite');
    el.appendChild(live);

    var ctx = canvas.getContext('2d');

    // ---- geometry

    function isAncestorOfZoom(i) {
      for (var a = state.zoom; a >= 0; a = m.parent[a]) if (a === i) return true;
      return false;
    }

    /** Left edge and width of node i in CSS pixels, or null when it is not drawn in the current zoom. */
    function box(i) {
      var z = state.zoom;
      if (i <= z ? isAncestorOfZoom(i) : false) return { x: 0, w: state.cssWidth };
      if (i > z && i < m.end[z]) {
        var w = m.width[i] * state.scale;
        if (w < MIN_PX) return null;
        return { x: (m.x[i] - m.x[z]) * state.scale, w: w };
      }
      return null;
    }

    function nodeAt(px, py) {
      var d = Math.floor(py / ROW);
      if (d < 0 || d > m.maxDepth || px < 0 || px > state.cssWidth) return -1;
      if (d <= m.depth[state.zoom]) {
        for (var a = state.zoom; a >= 0; a = m.parent[a]) if (m.depth[a] === d) return a;
        return -1;
      }
      var z = state.zoom;
      var target = m.x[z] + px / state.scale;
      var lo = m.byDepthStart[d];
      var hi = m.byDepthStart[d + 1] - 1;
      // Last node of this depth whose x is <= target.
      var found = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (m.x[m.byDepth[mid]] <= target) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      // Zero-width nodes share an x with their right neighbour: step back to one that covers the point.
      for (var k = found; k >= m.byDepthStart[d]; k--) {
        var i = m.byDepth[k];
        if (m.x[i] + m.width[i] < target) break;
        if (m.width[i] > 0 && i > z && i < m.end[z] && box(i)) return i;
      }
      return -1;
    }

    // ---- drawing

    function resize() {
      var cssWidth = Math.max(1, Math.floor(viewport.clientWidth));
      var cssHeight = Math.min(MAX_CSS_HEIGHT, (m.maxDepth + 1) * ROW);
      var dpr = window.devicePixelRatio || 1;
      canvas.style.width = cssWidth + 'px';
      canvas.style.height = cssHeight + 'px';
      canvas.width = Math.round(cssWidth * dpr);
      canvas.height = Math.round(cssHeight * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      state.cssWidth = cssWidth;
    }

    function draw() {
      state.frame = 0;
      var z = state.zoom;
      state.scale = m.width[z] > 0 ? state.cssWidth / m.width[z] : 0;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.font = FONT;
      ctx.textBaseline = 'middle';
      var charWidth = ctx.measureText('abcdefghijklmnopqrstuvwxyzABCDEFGH_.').width / 36;
      for (var a = z; a >= 0; a = m.parent[a]) drawNode(a, 0, state.cssWidth, charWidth, true);
      var end = m.end[z];
      for (var i = z + 1; i < end; i++) {
        var w = m.width[i] * state.scale;
        if (w < MIN_PX) {
          i = m.end[i] - 1; // children are no wider than their parent
          continue;
        }
        drawNode(i, (m.x[i] - m.x[z]) * state.scale, w, charWidth, false);
      }
      if (state.selected >= 0) {
        var b = box(state.selected);
        if (b) {
          var y = m.depth[state.selected] * ROW;
          ctx.lineWidth = 2;
          ctx.strokeStyle = '#000';
          ctx.strokeRect(b.x + 1, y + 1, Math.max(2, b.w - 2), ROW - 2);
          ctx.strokeStyle = '#fff';
          ctx.lineWidth = 1;
          ctx.strokeRect(b.x + 2.5, y + 2.5, Math.max(1, b.w - 5), ROW - 5);
        }
      }
    }

    function drawNode(i, x, w, charWidth, ancestor) {
      var y = m.depth[i] * ROW;
      var dim = state.matches && !state.matches[i];
      ctx.fillStyle = state.matches && state.matches[i] ? '#e879f9' : dim ? '#d4d4d8' : colors[i];
      ctx.globalAlpha = ancestor && i !== state.zoom ? 0.75 : 1;
      ctx.fillRect(x, y, w > 2 ? w - 1 : w, ROW - 1);
      ctx.globalAlpha = 1;
      if (diff && (data.change[i] === 3 || data.change[i] === 4) && w > 4) {
        // New (solid) and gone (dashed) frames carry a dark left edge so they read without colour too.
        ctx.fillStyle = '#111';
        ctx.fillRect(x, y, 3, ROW - 1);
      }
      if (m.name[i] === m.focus && w > 3) {
        ctx.setLineDash([4, 2]);
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#111';
        ctx.strokeRect(x + 1, y + 1, w - 3, ROW - 3);
        ctx.setLineDash([]);
      }
      if (w < 28) return;
      var label = labelOf(i);
      var room = Math.floor((w - 8) / charWidth);
      if (room < 3) return;
      if (label.length > room) label = label.slice(0, room - 1) + '…';
      ctx.fillStyle = dim ? '#52525b' : '#111';
      ctx.fillText(label, x + (diff && data.change[i] >= 3 ? 6 : 4), y + ROW / 2);
    }

    function labelOf(i) {
      var s = m.names[m.name[i]];
      if (diff && data.change[i] === 3) return '+ ' + s;
      if (diff && data.change[i] === 4) return '− ' + s;
      return s;
    }

    function schedule() {
      if (state.frame) return;
      state.frame = requestAnimationFrame(draw);
    }

    // ---- node details

    function info(i) {
      if (i < 0 || i >= m.n) return null;
      var out = { index: i, name: m.names[m.name[i]], depth: m.depth[i] };
      if (diff) {
        out.change = CHANGE[data.change[i]];
        out.baseShare = data.base.share[i];
        out.currentShare = data.current.share[i];
        out.baseValue = data.base.value[i];
        out.currentValue = data.current.value[i];
      } else {
        out.value = data.value[i];
        out.self = data.self[i];
        out.share = m.width[0] > 0 ? data.value[i] / m.width[0] : 0;
        out.selfShare = m.width[0] > 0 ? data.self[i] / m.width[0] : 0;
      }
      return out;
    }

    function describe(i) {
      var d = info(i);
      if (!d) return [];
      if (!diff) {
        return [
          d.name,
          'Total: ' + formatValue(d.value, unit) + ' (' + formatShare(d.share) + ')',
          'Self: ' + formatValue(d.self, unit) + ' (' + formatShare(d.selfShare) + ')',
        ];
      }
      var lines = [d.name];
      var baseTotal = Number(data.base.total);
      var currentTotal = Number(data.current.total);
      lines.push(
        'Base: ' + formatShare(d.baseShare) + ' (' + formatValue(d.baseValue, unit) + ')',
        'Current: ' + formatShare(d.currentShare) + ' (' + formatValue(d.currentValue, unit) + ')',
        d.change === 'new'
          ? 'New in current'
          : d.change === 'gone'
            ? 'Gone from current'
            : d.change === 'same'
              ? 'Share unchanged'
              : (d.change === 'grew' ? 'Grew ' : 'Shrank ') + formatPoints(d.currentShare - d.baseShare),
      );
      if (i === 0) lines.push('Totals: ' + formatValue(baseTotal, unit) + ' → ' + formatValue(currentTotal, unit));
      return lines;
    }

    function showTooltip(i, px, py) {
      if (i < 0) {
        tooltip.hidden = true;
        return;
      }
      var lines = describe(i);
      tooltip.textContent = '';
      var strong = document.createElement('strong');
      strong.textContent = lines[0];
      tooltip.appendChild(strong);
      for (var k = 1; k < lines.length; k++) {
        var line = document.createElement('div');
        line.textContent = lines[k];
        tooltip.appendChild(line);
      }
      tooltip.hidden = false;
      var tw = tooltip.offsetWidth;
      var left = px + 14;
      if (left + tw > state.cssWidth) left = Math.max(0, px - tw - 14);
      tooltip.style.left = left + 'px';
      tooltip.style.top = py + 16 + 'px';
    }

    // ---- actions

    function zoom(i) {
      if (i < 0 || i >= m.n) return;
      state.zoom = m.width[i] > 0 ? i : state.zoom;
      if (state.zoom === 0) el.removeAttribute('data-zoom');
      else el.setAttribute('data-zoom', m.names[m.name[state.zoom]]);
      resetButton.disabled = state.zoom === 0;
      schedule();
    }

    function reset() {
      zoom(0);
    }

    function select(i) {
      if (i < 0 || i >= m.n) return;
      state.selected = i;
      live.textContent = describe(i).join('. ');
      schedule();
    }

    function search(q) {
      q = (q || '').trim().toLowerCase();
      if (searchInput.value.trim().toLowerCase() !== q) searchInput.value = q;
      if (q === '') {
        state.matches = null;
        matchStatus.textContent = '';
        el.removeAttribute('data-matches');
        schedule();
        return { query: '', frames: 0, share: 0 };
      }
      var nameHit = new Uint8Array(m.names.length);
      for (var k = 0; k < m.names.length; k++) if (m.names[k].toLowerCase().indexOf(q) >= 0) nameHit[k] = 1;
      var matches = new Uint8Array(m.n);
      var frames = 0;
      for (var i = 1; i < m.n; i++)
        if (nameHit[m.name[i]]) {
          matches[i] = 1;
          frames++;
        }
      // Share of the topmost matches only: a match inside a match is already counted in its ancestor.
      var sum = 0;
      var baseSum = 0;
      var currentSum = 0;
      for (var j = 1; j < m.n; j++) {
        if (!matches[j]) continue;
        sum += m.width[j];
        if (diff) {
          baseSum += data.base.share[j];
          currentSum += data.current.share[j];
        }
        j = m.end[j] - 1;
      }
      var share = m.width[0] > 0 ? sum / m.width[0] : 0;
      state.matches = matches;
      el.setAttribute('data-matches', String(frames));
      matchStatus.textContent =
        frames === 0
          ? 'No match'
          : diff
            ? 'Matched ' + frames + ' frames: base ' + formatShare(baseSum) + ', current ' + formatShare(currentSum)
            : 'Matched ' + frames + ' frames, ' + formatShare(share) + ' of the total';
      schedule();
      return diff
        ? { query: q, frames: frames, share: share, baseShare: baseSum, currentShare: currentSum }
        : { query: q, frames: frames, share: share };
    }

    /** Next visible node at the same depth, leftwards (-1) or rightwards (+1). */
    function sibling(i, dir) {
      var d = m.depth[i];
      var lo = m.byDepthStart[d];
      var hi = m.byDepthStart[d + 1];
      var k = lo;
      while (k < hi && m.byDepth[k] !== i) k++;
      for (k += dir; k >= lo && k < hi; k += dir) if (box(m.byDepth[k])) return m.byDepth[k];
      return i;
    }

    function firstChild(i) {
      for (var c = i + 1; c < m.end[i]; c = m.end[c]) if (box(c)) return c;
      return i;
    }

    // ---- events

    canvas.addEventListener('mousemove', function (ev) {
      var r = canvas.getBoundingClientRect();
      var i = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
      canvas.style.cursor = i >= 0 ? 'pointer' : 'default';
      showTooltip(i, ev.clientX - r.left, ev.clientY - r.top);
    });
    canvas.addEventListener('mouseleave', function () {
      tooltip.hidden = true;
    });
    canvas.addEventListener('click', function (ev) {
      var r = canvas.getBoundingClientRect();
      var i = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
      if (i < 0) return;
      select(i);
      zoom(i);
    });
    canvas.addEventListener('keydown', function (ev) {
      var s = state.selected >= 0 && box(state.selected) ? state.selected : state.zoom;
      var next = -2;
      switch (ev.key) {
        case 'ArrowUp':
          next = s > 0 ? m.parent[s] : s;
          break;
        case 'ArrowDown':
          next = firstChild(s);
          break;
        case 'ArrowLeft':
          next = sibling(s, -1);
          break;
        case 'ArrowRight':
          next = sibling(s, 1);
          break;
        case 'Enter':
        case ' ':
          select(s);
          zoom(s);
          break;
        case 'Escape':
          reset();
          break;
        default:
          return;
      }
      ev.preventDefault();
      if (next >= 0) {
        select(next);
        var b = box(next);
        if (b) showTooltip(next, b.x + Math.min(b.w / 2, 40), m.depth[next] * ROW);
      }
    });
    canvas.addEventListener('blur', function () {
      tooltip.hidden = true;
    });
    resetButton.addEventListener('click', reset);
    searchInput.addEventListener('input', function () {
      search(searchInput.value);
    });
    searchInput.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape') search('');
    });

    var lastWidth = -1;
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(function () {
        if (Math.floor(viewport.clientWidth) === lastWidth) return;
        lastWidth = Math.floor(viewport.clientWidth);
        resize();
        draw();
      }).observe(viewport);
    }

    el.flamegraph = {
      nodeCount: m.n,
      zoomedNode: function () {
        return info(state.zoom);
      },
      selectedNode: function () {
        return info(state.selected);
      },
      nodeAt: function (px, py) {
        return info(nodeAt(px, py));
      },
      node: info,
      find: function (name) {
        for (var i = 0; i < m.n; i++) if (m.names[m.name[i]] === name) return info(i);
        return null;
      },
      box: function (i) {
        var b = box(i);
        return b ? { x: b.x, y: m.depth[i] * ROW, width: b.w, height: ROW } : null;
      },
      search: function (q) {
        var result = search(q);
        draw();
        return result;
      },
      zoom: function (i) {
        zoom(i);
        draw();
      },
      reset: function () {
        reset();
        draw();
      },
      select: select,
    };

    resize();
    lastWidth = Math.floor(viewport.clientWidth);
    resetButton.disabled = true;
    draw();
    el.setAttribute('data-ready', 'true');
    if (window.performance && performance.mark) performance.mark('flamegraph-ready');
  }

  function nodeColors(m) {
    var colors = new Array(m.n);
    if (m.diff) {
      var change = m.data.change;
      for (var i = 0; i < m.n; i++) {
        var c = change[i];
        if (c === 0 || m.maxDelta === 0) {
          colors[i] = 'hsl(220, 8%, 82%)';
          continue;
        }
        // Intensity by |share delta| relative to the largest one, square-root scaled so small changes still show.
        var t = Math.sqrt(Math.min(1, Math.abs(m.delta[i]) / m.maxDelta));
        var grew = c === 1 || c === 3;
        colors[i] = grew
          ? 'hsl(0, 85%, ' + (90 - 32 * t).toFixed(1) + '%)'
          : 'hsl(214, 85%, ' + (90 - 34 * t).toFixed(1) + '%)';
      }
      return colors;
    }
    var cache = new Map();
    for (var j = 0; j < m.n; j++) {
      var nm = m.name[j];
      var col = cache.get(nm);
      if (!col) {
        var h = hashName(m.names[nm]);
        // Warm flame colours, light enough for black text at WCAG AA.
        col = 'hsl(' + (h % 48) + ', ' + (72 + ((h >>> 8) % 20)) + '%, ' + (62 + ((h >>> 16) % 12)) + '%)';
        cache.set(nm, col);
      }
      colors[j] = col;
    }
    colors[0] = 'hsl(30, 10%, 80%)';
    return colors;
  }

  function legend(m) {
    var box = div('flamegraph-legend');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', 'Legend');
    var items = m.diff
      ? [
          ['grew', 'Share grew (darker: more)'],
          ['shrank', 'Share shrank (darker: more)'],
          ['same', 'Unchanged'],
          ['new', '+ New in current'],
          ['gone', '− Gone from current'],
        ]
      : [];
    if (m.focus >= 0) items.push(['focus', 'Dashed outline: ' + m.names[m.focus]]);
    for (var i = 0; i < items.length; i++) {
      var item = document.createElement('span');
      item.className = 'flamegraph-legend-item';
      var swatch = document.createElement('span');
      swatch.className = 'flamegraph-swatch flamegraph-swatch-' + items[i][0];
      swatch.setAttribute('aria-hidden', 'true');
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(items[i][1]));
      box.appendChild(item);
    }
    if (m.diff) {
      var scale = document.createElement('span');
      scale.className = 'flamegraph-legend-scale';
      scale.textContent = 'Largest change: ' + formatPoints(m.maxDelta).replace(/^[+−±]/, '±');
      box.appendChild(scale);
      var d = m.data;
      if (typeof d.baseLabel === 'string' && typeof d.currentLabel === 'string') {
        var sides = document.createElement('span');
        sides.className = 'flamegraph-legend-scale';
        sides.textContent = 'Base: ' + d.baseLabel + '; current: ' + d.currentLabel;
        box.appendChild(sides);
      }
    }
    return box;
  }

  /** Shares of the topmost frames of function name `k` (a frame inside another of the same name counts once). */
  function nameShares(m, k) {
    var width = 0;
    var base = 0;
    var current = 0;
    for (var i = 1; i < m.n; i++) {
      if (m.name[i] !== k) continue;
      width += m.width[i];
      if (m.diff) {
        base += m.data.base.share[i];
        current += m.data.current.share[i];
      }
      i = m.end[i] - 1;
    }
    return { share: m.width[0] > 0 ? width / m.width[0] : 0, base: base, current: current };
  }

  function summaryText(m, title, typeLabel, unit) {
    var data = m.data;
    var top = [];
    var root = m.width[0];
    for (var c = 1; c < m.n && top.length < 3; c = m.end[c])
      if (m.parent[c] === 0) top.push(m.names[m.name[c]] + ' ' + formatShare(root > 0 ? m.width[c] / root : 0));
    if (m.diff) {
      var grew = 0;
      var shrank = 0;
      for (var i = 1; i < m.n; i++) {
        if (data.change[i] === 1 || data.change[i] === 3) grew++;
        else if (data.change[i] === 2 || data.change[i] === 4) shrank++;
      }
      return (
        title +
        ' (' +
        typeLabel +
        '): base ' +
        formatValue(Number(data.base.total), unit) +
        ', current ' +
        formatValue(Number(data.current.total), unit) +
        '; ' +
        (m.n - 1) +
        ' frames, ' +
        grew +
        ' grew, ' +
        shrank +
        ' shrank (as shares of each total).' +
        focusText(m)
      );
    }
    return (
      title +
      ' (' +
      typeLabel +
      '): ' +
      formatValue(Number(data.total), unit) +
      ' in ' +
      (m.n - 1) +
      ' frames' +
      (top.length ? '; widest at the top: ' + top.join(', ') : '') +
      '.' +
      focusText(m)
    );
  }

  function focusText(m) {
    if (m.focus < 0) return '';
    var s = nameShares(m, m.focus);
    return (
      ' ' +
      m.names[m.focus] +
      ' (outlined): ' +
      (m.diff ? formatShare(s.base) + ' → ' + formatShare(s.current) : formatShare(s.share)) +
      ' of the total.'
    );
  }

  function div(className) {
    var d = document.createElement('div');
    d.className = className;
    return d;
  }

  window.flamebillFlamegraph = { mountAll: mountAll, mount: mount };
  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', function () {
      mountAll();
    });
  else mountAll();
})();
