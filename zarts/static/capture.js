// Lead capture snippet: fetch a fill-time token for each ZartsAlgo capture form on the page.
(function () {
  function arm(form) {
    var field = form.querySelector('input[name="_started"]');
    if (!field || !window.fetch) { return; }
    fetch(form.action.replace(/\/$/, "") + "/start", {credentials: "omit"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.token) { field.value = body.token; } })
      .catch(function () {});
  }
  function init() { Array.prototype.forEach.call(document.querySelectorAll("form.zarts-capture"), arm); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
