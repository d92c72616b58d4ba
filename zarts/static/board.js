// The pipeline board: drag a card to another column to move it.
//
// A drop submits the card's own Move form (the keyboard path) with the column's stage chosen, so the
// move goes through the same POST, version and gates. The card goes back to where it was at once:
// a move swaps it into its new column (htmx out-of-band), a refusal (403, 409, 422) or the questions
// of Lost and Won re-render it in place. Cards the user may not move have no form and do not drag.
(function () {
  "use strict";

  var pendingFocus = null;   // the id of the card whose move is on its way
  var pendingXhr = null;     // that move's request: other requests (the bell) settle in between

  function moveForm(card) {
    return card.querySelector("form.move");
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else if (window.htmx) {
      window.htmx.trigger(form, "submit");
    } else {
      form.submit();
    }
  }

  function putBack(evt) {
    var from = evt.from;
    var ref = from.children[evt.oldIndex] || null;
    from.insertBefore(evt.item, ref === evt.item ? evt.item.nextSibling : ref);
  }

  function onEnd(evt) {
    var card = evt.item;
    var to = evt.to.getAttribute("data-stage");
    if (evt.from === evt.to || !to) {
      putBack(evt);
      return;
    }
    putBack(evt);
    var form = moveForm(card);
    var select = form && form.querySelector("select[name=stage]");
    if (!select) {
      return;
    }
    select.value = to;
    card.classList.add("pending");
    pendingFocus = card.id;
    submit(form);
  }

  function makeSortable(list) {
    if (!window.Sortable || list.getAttribute("data-sortable") === "1") {
      return;
    }
    list.setAttribute("data-sortable", "1");
    window.Sortable.create(list, {
      group: "board",
      sort: false,
      draggable: ".lead-card.movable",
      filter: "a, button, select, input, textarea, label, .notice",
      preventOnFilter: false,
      forceFallback: true,        // pointer events: the same path for a mouse, a finger and a test
      fallbackOnBody: true,
      delayOnTouchOnly: true,     // on a phone, a short press starts a drag; a swipe still scrolls
      delay: 180,
      ghostClass: "drag-ghost",
      chosenClass: "drag-chosen",
      dragClass: "drag-moving",
      onEnd: onEnd
    });
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var lists = scope.querySelectorAll(".board .cards[data-stage]");
    for (var i = 0; i < lists.length; i++) {
      makeSortable(lists[i]);
    }
    if (scope.matches && scope.matches(".board .cards[data-stage]")) {
      makeSortable(scope);
    }
  }

  // Keyboard and screen readers: after a move from the card's form, focus follows the card.
  document.addEventListener("submit", function (evt) {
    var card = evt.target.closest && evt.target.closest(".lead-card");
    if (card) {
      pendingFocus = card.id;
    }
  }, true);

  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    var card = elt && elt.closest && elt.closest(".lead-card");
    if (pendingFocus && card && card.id === pendingFocus) {
      pendingXhr = evt.detail.xhr;
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    if (!pendingFocus || !pendingXhr || (evt.detail && evt.detail.xhr !== pendingXhr)) {
      return;
    }
    var card = document.getElementById(pendingFocus);
    if (!card) {
      return;  // the out-of-band swap has not landed yet
    }
    pendingFocus = null;
    pendingXhr = null;
    card.classList.remove("pending");
    var target = card.querySelector(".outcome select, .outcome button, .notice-error a, h3 a");
    if (target) {
      target.focus();
    }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    var card = elt && elt.closest && elt.closest(".lead-card");
    if (card && !evt.detail.successful && card.isConnected) {
      card.classList.remove("pending");
    }
  });

  // Back or Forward into a page kept whole by the browser (bfcache): show the board as it is now.
  window.addEventListener("pageshow", function (evt) {
    if (evt.persisted && document.getElementById("board")) {
      window.location.reload();
    }
  });

  // Deferred scripts run in order and this one may come before htmx: start once the page is parsed,
  // then again on every piece htmx swaps in (a filtered board, a "more" page, a history restore).
  function start() {
    init(document);
    document.addEventListener("htmx:load", function (evt) { init(evt.target); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
