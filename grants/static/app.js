/* Parcours QPV: small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  /* The error summary takes the focus, so that the first thing read is what to correct. */
  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  /* Irreversible actions: the submit button names a confirmation dialog (data-confirm);
     the dialog's confirm button submits the form with the original button as submitter. */
  var pending = {};

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog || !window.dsfr) {
      return false;
    }
    window.dsfr(dialog).modal.disclose();
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !button.dataset.confirmed) {
      if (openDialog(button.dataset.confirm)) {
        event.preventDefault();
        pending[button.dataset.confirm] = button;
      }
      return;
    }
    var confirm = event.target.closest("[data-confirm-submit]");
    if (confirm) {
      var id = confirm.dataset.confirmSubmit;
      var original = pending[id] || document.querySelector('[data-confirm="' + id + '"]');
      if (!original || !original.form) {
        return;
      }
      original.dataset.confirmed = "1";
      confirm.disabled = true;
      if (original.form.requestSubmit) {
        original.form.requestSubmit(original);
      } else {
        original.click();
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
})();
