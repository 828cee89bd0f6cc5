// Guichet administration: asks before a form marked data-confirm is sent
// (deleting, a device's new secret). Everything works without it.
document.addEventListener("submit", (e) => {
  const msg = e.target.dataset && e.target.dataset.confirm;
  if (msg && !window.confirm(msg)) e.preventDefault();
});
