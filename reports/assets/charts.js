/*
 * flamebill charts: uPlot (served by the app at /assets/vendor/uplot.js, the global `uPlot`) on every [data-chart]
 * element. Progressive enhancement: the page already shows the numbers as a table; this draws them.
 *
 * Data: a JSON island named by data-island="<id>" (a <script type="application/json">), else one inside the element,
 * else the JSON at data-src:
 *   { "kind": "stacked-area" | "line" | "sparkline", "labels": ["2026-11-02", ...] (UTC days),
 *     "series": [{ "name": "checkout", "values": [12.5, ...] }, ...] (currency units, null for a missing day),
 *     "currency": "USD", "title": "optional" }
 * stacked-area: a daily cost trend stacked by series (the legend and the cursor show each series' own amount and the
 * stack's total); line: one line per series; sparkline: a tiny line without axes or legend (its numbers are in the
 * aria-label). Amounts are formatted in the currency with Intl.NumberFormat. When drawn: data-ready="true"; the
 * uPlot instance is element.chart.
 */
(function () {
  'use strict';

  // Okabe-Ito based palette: distinguishable with the common colour-vision deficiencies, readable in both themes.
  var DAY = 86400;
  var PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7a7a00', '#6a3d9a', '#999999'];

  function mountAll(root) {
    var els = (root || document).querySelectorAll('[data-chart]');
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  function mount(el) {
    if (el.chart || el.getAttribute('data-state') === 'loading') return;
    if (typeof window.uPlot !== 'function') return fail(el, new Error('the chart library did not load'));
    el.setAttribute('data-state', 'loading');
    load(el)
      .then(function (spec) {
        el.removeAttribute('data-state');
        create(el, spec);
      })
      .catch(function (err) {
        fail(el, err);
      });
  }

  function fail(el, err) {
    el.setAttribute('data-state', 'error');
    var p = document.createElement('p');
    p.className = 'chart-error muted';
    p.textContent = 'Chart unavailable: ' + (err && err.message ? err.message : String(err));
    el.appendChild(p);
  }

  function load(el) {
    var id = el.getAttribute('data-island');
    var script = id ? document.getElementById(id) : el.querySelector('script[type="application/json"]');
    if (script) {
      try {
        return Promise.resolve(JSON.parse(script.textContent));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (id) return Promise.reject(new Error('no data island #' + id));
    var src = el.getAttribute('data-src');
    if (!src) return Promise.reject(new Error('no chart data'));
    return fetch(src, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status + ' from ' + src);
      return r.json();
    });
  }

  function moneyFormats(currency) {
    var full = new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' });
    var compact = new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: currency || 'USD',
      notation: 'compact',
      maximumFractionDigits: 1,
    });
    return {
      full: function (v) {
        return v === null || v === undefined || isNaN(v) ? '–' : full.format(v);
      },
      compact: function (v) {
        return v === null || v === undefined || isNaN(v) ? '' : compact.format(v);
      },
    };
  }

  function dayToSeconds(day) {
    var t = Date.parse(String(day).slice(0, 10) + 'T00:00:00Z');
    if (isNaN(t)) throw new Error('not an ISO day: ' + day);
    return t / 1000;
  }

  function dayOf(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 10);
  }

  function validate(spec) {
    if (!spec || ['stacked-area', 'line', 'sparkline'].indexOf(spec.kind) < 0)
      throw new Error('unknown chart kind ' + (spec && spec.kind));
    if (!Array.isArray(spec.labels) || !Array.isArray(spec.series)) throw new Error('labels and series are required');
    for (var i = 0; i < spec.series.length; i++)
      if (!Array.isArray(spec.series[i].values) || spec.series[i].values.length !== spec.labels.length)
        throw new Error('series ' + spec.series[i].name + ' does not have one value per label');
  }

  function create(el, spec) {
    validate(spec);
    var U = window.uPlot;
    var money = moneyFormats(spec.currency);
    var xs = spec.labels.map(dayToSeconds);
    var raw = spec.series.map(function (s) {
      return s.values;
    });
    var sparkline = spec.kind === 'sparkline';
    var stacked = spec.kind === 'stacked-area';

    var data = [xs];
    if (stacked) {
      var acc = xs.map(function () {
        return 0;
      });
      for (var s = 0; s < raw.length; s++) {
        acc = acc.map(function (a, t) {
          return a + (raw[s][t] || 0);
        });
        data.push(acc.slice());
      }
    } else {
      for (var r = 0; r < raw.length; r++) data.push(raw[r]);
    }

    var series = [
      {
        label: 'Day',
        // Away from the cursor, the legend shows the last day.
        value: function (u, v, si, di) {
          return xs.length ? dayOf(xs[di === null || di === undefined ? xs.length - 1 : di]) : '–';
        },
      },
    ];
    var bands = [];
    spec.series.forEach(function (s, k) {
      var color = PALETTE[k % PALETTE.length];
      series.push({
        label: s.name,
        stroke: color,
        width: sparkline ? 1.5 : stacked ? 1 : 2,
        fill: stacked && k === 0 ? color + 'b3' : undefined,
        points: { show: !sparkline && xs.length <= 45 && !stacked },
        spanGaps: false,
        // The legend shows the series' own amount, not the stacked sum drawn.
        value: function (u, v, si, di) {
          return money.full(raw[si - 1][di === null || di === undefined ? xs.length - 1 : di]);
        },
      });
      if (stacked && k > 0) bands.push({ series: [k + 1, k], fill: color + 'b3' });
    });

    var container = document.createElement('div');
    container.className = 'chart-plot';
    el.appendChild(container);
    el.classList.add('chart-' + spec.kind);
    // The summary stands for the drawing (the page's table holds the same numbers). A page that labelled the element
    // itself (role="img" with an aria-label) keeps its label; the figures' summary is then its description.
    var summary = describe(spec, money);
    if (el.getAttribute('role') === 'img' && el.getAttribute('aria-label'))
      el.setAttribute('aria-description', summary);
    else {
      container.setAttribute('role', 'img');
      container.setAttribute('aria-label', summary);
    }

    var height = sparkline
      ? Number(el.getAttribute('data-height')) || 36
      : Number(el.getAttribute('data-height')) || 280;
    var axisStroke = getComputedStyle(el).color || '#333';
    var opts = {
      width: widthOf(el, sparkline),
      height: height,
      title: sparkline ? undefined : spec.title,
      series: series,
      bands: bands,
      tzDate: function (ts) {
        return U.tzDate(new Date(ts * 1000), 'Etc/UTC');
      },
      scales: { x: { time: true }, y: { range: yRange(stacked) } },
      legend: { show: !sparkline, live: true },
      cursor: sparkline ? { show: false } : { drag: { x: false, y: false }, points: { size: 6 } },
      axes: sparkline
        ? [{ show: false }, { show: false }]
        : [
            {
              stroke: axisStroke,
              grid: { stroke: 'rgba(128,128,128,0.2)' },
              ticks: { stroke: 'rgba(128,128,128,0.4)' },
              // Daily data: ticks on whole UTC days (1, 2, 7, 14, 28 days apart), labelled MM-DD.
              incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY],
              values: function (u, splits) {
                return splits.map(function (t) {
                  return dayOf(t).slice(5);
                });
              },
            },
            {
              stroke: axisStroke,
              size: 70,
              grid: { stroke: 'rgba(128,128,128,0.2)' },
              ticks: { stroke: 'rgba(128,128,128,0.4)' },
              values: function (u, ticks) {
                return ticks.map(money.compact);
              },
            },
          ],
      padding: sparkline ? [2, 2, 2, 2] : undefined,
    };
    if (stacked) {
      // Total of the stack at the cursor, below the legend.
      var total = document.createElement('p');
      total.className = 'chart-total';
      total.setAttribute('aria-live', 'off');
      opts.hooks = {
        setLegend: [
          function (u) {
            var i = u.cursor.idx;
            if (i === null || i === undefined) i = xs.length - 1;
            var sum = 0;
            for (var k = 0; k < raw.length; k++) sum += raw[k][i] || 0;
            total.textContent = (xs.length ? dayOf(xs[i]) + ': ' : '') + 'total ' + money.full(sum);
          },
        ],
      };
    }
    var chart = new U(opts, data, container);
    if (total) el.appendChild(total);
    el.chart = chart;

    if (typeof ResizeObserver === 'function') {
      var last = opts.width;
      new ResizeObserver(function () {
        var w = widthOf(el, sparkline);
        if (w === last) return;
        last = w;
        chart.setSize({ width: w, height: height });
      }).observe(el);
    }
    el.setAttribute('data-ready', 'true');
  }

  function yRange(stacked) {
    return function (u, min, max) {
      var lo = stacked ? 0 : Math.min(0, min === null ? 0 : min);
      var hi = max === null || max <= lo ? lo + 1 : max * 1.05;
      return [lo, hi];
    };
  }

  function widthOf(el, sparkline) {
    var w = Math.floor(el.clientWidth);
    if (sparkline) return Math.max(60, w || Number(el.getAttribute('data-width')) || 120);
    return Math.max(240, w || 600);
  }

  function describe(spec, money) {
    var n = spec.labels.length;
    var range = n ? spec.labels[0] + ' to ' + spec.labels[n - 1] : 'no days';
    var parts = spec.series.map(function (s) {
      var sum = 0;
      for (var i = 0; i < s.values.length; i++) sum += s.values[i] || 0;
      var last = n ? s.values[n - 1] : null;
      return (
        s.name + ' ' + money.full(sum) + ' in all' + (spec.kind === 'sparkline' ? ', last day ' + money.full(last) : '')
      );
    });
    var what =
      spec.kind === 'stacked-area' ? 'Daily cost stacked by series' : spec.kind === 'line' ? 'Daily cost' : 'Trend';
    return (spec.title ? spec.title + '. ' : '') + what + ', ' + range + ': ' + parts.join('; ') + '.';
  }

  window.flamebillCharts = { mountAll: mountAll, mount: mount };
  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', function () {
      mountAll();
    });
  else mountAll();
})();
