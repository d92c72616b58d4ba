// Portal: show refusals where the user is. htmx 2 does not swap 4xx answers by default; the portal
// answers a refused tick, decision or message with the re-rendered fragment and a 4xx status
// (400/403/404/409/422), so those bodies are swapped like a success.
document.addEventListener("htmx:beforeSwap", function (evt) {
  var status = evt.detail.xhr.status;
  if (status >= 400 && status < 500 && evt.detail.xhr.responseText) {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});
