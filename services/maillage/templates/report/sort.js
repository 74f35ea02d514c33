document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = th.getAttribute('data-order') !== 'asc';
      var numeric = th.classList.contains('n');
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-v'), y = b.cells[column].getAttribute('data-v');
        var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, 'fr');
        return ascending ? c : -c;
      });
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
      th.setAttribute('data-order', ascending ? 'asc' : 'desc');
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
