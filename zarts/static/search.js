// The global search box of the top bar (workspace/partials/search_box.html): "/" focuses it (unless
// the user is typing in a field), htmx fetches the results as they type into #global-search-panel,
// ArrowDown/ArrowUp move the active option (aria-activedescendant), Enter opens it, Escape closes the
// list (a second Escape leaves the box). Without an active option Enter submits the form: the full
// results page. No inline handlers (CSP): everything is bound here.
(function () {
  "use strict";

  function box() { return document.getElementById("global-search-q"); }
  function panel() { return document.getElementById("global-search-panel"); }
  function options() {
    var p = panel();
    return p ? Array.prototype.slice.call(p.querySelectorAll('[role="option"]')) : [];
  }

  function typingInField(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function setActive(index) {
    var input = box(), opts = options();
    opts.forEach(function (opt, i) {
      var on = i === index;
      opt.setAttribute("aria-selected", on ? "true" : "false");
      opt.classList.toggle("active", on);
      if (on && opt.scrollIntoView) opt.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0 && opts[index]) input.setAttribute("aria-activedescendant", opts[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function activeIndex() {
    return options().findIndex(function (opt) { return opt.getAttribute("aria-selected") === "true"; });
  }

  function open() {
    var p = panel(), input = box();
    if (!p || !p.innerHTML.trim()) return;
    p.hidden = false;
    input.setAttribute("aria-expanded", options().length ? "true" : "false");
  }

  function close() {
    var p = panel(), input = box();
    if (!p) return;
    p.hidden = true;
    input.setAttribute("aria-expanded", "false");
    setActive(-1);
  }

  document.addEventListener("keydown", function (evt) {
    var input = box();
    if (!input) return;
    if (evt.key === "/" && !evt.ctrlKey && !evt.metaKey && !evt.altKey && !typingInField(evt.target)) {
      evt.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (evt.target !== input) return;
    var opts = options(), i = activeIndex();
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      if (!opts.length) return;
      evt.preventDefault();
      open();
      var step = evt.key === "ArrowDown" ? 1 : -1;
      setActive(i < 0 ? (step > 0 ? 0 : opts.length - 1) : (i + step + opts.length) % opts.length);
    } else if (evt.key === "Enter") {
      var panelOpen = panel() && !panel().hidden;
      if (panelOpen && i >= 0 && opts[i]) {
        evt.preventDefault();
        var link = opts[i].querySelector("a");
        if (link) window.location.assign(link.href);
      }
    } else if (evt.key === "Escape") {
      if (panel() && !panel().hidden) {
        evt.preventDefault();
        close();
      } else {
        input.blur();
      }
    }
  });

  // New results: show them, nothing active yet.
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "global-search-panel") {
      setActive(-1);
      if (box().value.trim()) open(); else close();
    }
  });

  document.addEventListener("focusin", function (evt) {
    if (evt.target === box() && box().value.trim()) open();
  });

  // A click anywhere else closes the list.
  document.addEventListener("click", function (evt) {
    var form = box() && box().form;
    if (form && !form.contains(evt.target)) close();
  });

  document.addEventListener("mousemove", function (evt) {
    var opt = evt.target.closest && evt.target.closest('#global-search-panel [role="option"]');
    if (opt) setActive(options().indexOf(opt));
  });
})();
