// flamebill dashboard: small progressive enhancements of the server-rendered pages (no dependency, no build step).
// Sortable tables: each column header of a `table.sortable` becomes a button; cells sort by `data-sort` (exact
// integers, compared as BigInt so micro-units never lose precision) or by their text.
'use strict';
(function () {
  function key(cell) {
    if (!cell) return { n: null, t: '' };
    var raw = cell.getAttribute('data-sort');
    if (raw !== null && /^-?\d+$/.test(raw)) return { n: BigInt(raw), t: '' };
    return { n: null, t: (cell.textContent || '').trim().toLowerCase() };
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    return a.t < b.t ? -1 : a.t > b.t ? 1 : 0;
  }
  function makeSortable(table) {
    var head = table.tHead && table.tHead.rows[0];
    var body = table.tBodies[0];
    if (!head || !body) return;
    Array.prototype.forEach.call(head.cells, function (th, column) {
      var label = th.textContent || '';
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.textContent = label;
      button.setAttribute('aria-label', 'Sort by ' + label);
      th.textContent = '';
      th.appendChild(button);
      button.addEventListener('click', function () {
        var descending = th.getAttribute('aria-sort') !== 'descending';
        Array.prototype.forEach.call(head.cells, function (other) {
          other.removeAttribute('aria-sort');
        });
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        var rows = Array.prototype.filter.call(body.rows, function (row) {
          return row.cells.length === head.cells.length;
        });
        rows.sort(function (x, y) {
          var order = compare(key(x.cells[column]), key(y.cells[column]));
          return descending ? -order : order;
        });
        rows.forEach(function (row) {
          body.appendChild(row);
        });
      });
    });
  }
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), makeSortable);
    // A drawn chart replaces its table of figures; the table stays one click away (and is what screen readers read).
    Array.prototype.forEach.call(document.querySelectorAll('figure.chart'), function (figure) {
      var canvas = figure.querySelector('.chart-canvas');
      var details = figure.querySelector('details.chart-table');
      if (!canvas || !details) return;
      var close = function () {
        if (canvas.getAttribute('data-ready') === 'true') details.removeAttribute('open');
        return canvas.getAttribute('data-ready') === 'true';
      };
      if (close()) return;
      var observer = new MutationObserver(function () {
        if (close()) observer.disconnect();
      });
      observer.observe(canvas, { attributes: true, attributeFilter: ['data-ready'] });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
