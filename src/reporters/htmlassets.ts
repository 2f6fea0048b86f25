// The style and the script of the HTML report (html.ts): constants, no network, no library. The script reads the
// data embedded in the page: a click on a bar, an aggregate or a marker shows its details; the checkboxes narrow the list
// to the failed, flaky, slow or not-run tests and dim the other bars of the timeline (none checked: everything).

export const PAGE_STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1260px;margin:0 auto;padding:16px}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
dl#meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}dd{margin:0;font-family:monospace}
svg#timeline{background:#fff;border:1px solid #ddd}
text.tick{font-size:10px;fill:#888;text-anchor:middle}line.tick{stroke:#eee}
text.label{font-size:12px;fill:#333;font-family:monospace}
rect.file{fill:#e3e7ea}
rect.bar{cursor:pointer;stroke:#fff;stroke-width:.3}
rect.passed{fill:#4caf50}rect.failed{fill:#e53935}rect.flaky{fill:#ffb300}rect.pending{fill:#90a4ae}
rect.dim{opacity:.15}rect.selected{stroke:#000;stroke-width:1.5}
polygon.marker{cursor:pointer;stroke:#000;stroke-width:.5}
polygon.rebuild{fill:#7e57c2}polygon.replaced{fill:#000}polygon.chaos{fill:#00acc1}polygon.failure{fill:#e53935}
#details{white-space:pre-wrap;font-family:monospace;background:#fff;border:1px solid #ddd;padding:8px;margin-top:8px;min-height:3em}
#filters label{margin-right:16px}
ol#tests{padding-left:24px}li.item{margin:6px 0}li.hidden{display:none}
li .kind{display:inline-block;min-width:60px;font-weight:600}li.failed .kind{color:#e53935}li.flaky .kind{color:#b28704}
li pre{margin:4px 0 0;padding:6px;background:#fff;border:1px solid #eee;overflow:auto;max-height:240px}
pre.diff{color:#555}
`;

export const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('bulkhead-data').textContent);
  var details = document.getElementById('details');
  var selected = null;
  function ms(n) { return Math.round(n) + ' ms'; }
  function describeBar(b) {
    var lines = [b.title, b.file + (b.line ? ':' + b.line : ''), 'state: ' + b.state + (b.attempts > 1 ? ' (attempt ' + b.attempts + ')' : ''),
      'worker: w' + b.slot + ', connection ' + (b.generation === null ? '-' : b.generation), 'from ' + ms(b.start) + ' to ' + ms(b.end) + ' (' + ms(b.end - b.start) + ')'];
    if (b.error) {
      lines.push('');
      if (b.error.sqlstate) lines.push('SQLSTATE ' + b.error.sqlstate);
      lines.push(b.error.stack || (b.error.name + ': ' + b.error.message));
      if (b.error.expected !== undefined && b.error.actual !== undefined) lines.push('', '- expected: ' + b.error.expected, '+ actual:   ' + b.error.actual);
    }
    return lines.join('\\n');
  }
  function show(el) {
    if (selected) selected.classList.remove('selected');
    selected = el;
    el.classList.add('selected');
    if (el.hasAttribute('data-bar')) details.textContent = describeBar(data.bars[Number(el.getAttribute('data-bar'))]);
    else if (el.hasAttribute('data-group')) {
      var ids = el.getAttribute('data-group').split(',');
      details.textContent = ids.length + ' tests, too short to draw one by one:\\n' + ids.slice(0, 50).map(function (i) { var b = data.bars[Number(i)]; return b.state + '  ' + b.file + ': ' + b.title + ' (' + ms(b.end - b.start) + ')'; }).join('\\n') + (ids.length > 50 ? '\\n...' : '');
    } else if (el.hasAttribute('data-marker')) {
      var m = data.markers[Number(el.getAttribute('data-marker'))];
      details.textContent = m.title + ' at ' + ms(m.at) + ' on w' + m.slot + '\\n' + m.detail;
    }
  }
  document.getElementById('timeline').addEventListener('click', function (e) {
    var el = e.target.closest('[data-bar],[data-group],[data-marker]');
    if (el) show(el);
  });
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#filters input'));
  function filter() {
    var on = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.getAttribute('data-filter'); });
    document.querySelectorAll('#tests li').forEach(function (li) { li.classList.toggle('hidden', on.length > 0 && on.indexOf(li.getAttribute('data-kind')) < 0); });
    document.querySelectorAll('rect.bar').forEach(function (r) {
      var kinds = (r.getAttribute('data-kinds') || '').split(' ');
      r.classList.toggle('dim', on.length > 0 && !on.some(function (k) { return kinds.indexOf(k) >= 0; }));
    });
  }
  boxes.forEach(function (b) { b.addEventListener('change', filter); });
  filter();
})();
`;
