// Show refusals where the user is. htmx 2 does not swap 4xx answers by default; the workspace and
// the portal answer a refused move, decision, form, tick or message with the re-rendered fragment
// and its status (400 invalid, 403 not allowed, 404 not yours, 409 changed meanwhile, 422 gate
// refused), so those bodies are swapped like a success. 5xx answers keep htmx's default (no swap).
document.addEventListener("htmx:beforeSwap", function (evt) {
  var status = evt.detail.xhr.status;
  if (status >= 400 && status < 500 && evt.detail.xhr.responseText) {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});
