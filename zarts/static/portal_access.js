// Portal access: the "Copy link" button next to a one-time invite link (the lead page's panel and
// Admin → Users). Delegated from the document, so a panel swapped in by htmx works too. The link is
// shown once and never stored readable: copying it is the only way to keep it.
(function () {
  function copied(button) {
    button.textContent = "Copied";
    button.classList.add("copied");
  }

  function fallback(input, button) {
    input.focus();
    input.select();
    try {
      if (document.execCommand("copy")) { copied(button); return; }
    } catch (e) { /* fall through: the link stays selected for Ctrl+C */ }
    button.textContent = "Press Ctrl+C to copy";
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("button[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { copied(button); },
                                                      function () { fallback(input, button); });
    } else {
      fallback(input, button);
    }
  });
})();
