// The reviewer's inbox: "select every item shown" ticks each row's checkbox (no inline script:
// one delegated listener, which also serves the rows an htmx swap brings in).
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box || !box.matches || !box.matches("input.select-all") || !box.form) { return; }
  box.form.querySelectorAll("input[name='item']").forEach(function (row) {
    row.checked = box.checked;
  });
});
