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

  /* Tables of rows (a call's pièces and criteria, templates/admin/call_form.html): without
     JavaScript, empty rows at the end add items; « Ajouter une ligne » adds one more, a copy
     of the last row emptied, its field names numbered after the others (WTForms' FieldList). */
  function addRow(table) {
    var body = table.tBodies[0];
    var last = body.rows[body.rows.length - 1];
    var index = body.rows.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (element) {
      ["id", "name", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) {
          element.setAttribute(attribute, value.replace(/-\d+-/, "-" + index + "-"));
        }
      });
      element.removeAttribute("aria-describedby");
      element.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".fr-error-text").forEach(function (message) { message.remove(); });
    copy.querySelectorAll(".fr-input-group--error, .fr-checkbox-group--error, .fr-input--error").forEach(function (element) {
      element.classList.remove("fr-input-group--error", "fr-checkbox-group--error", "fr-input--error");
    });
    copy.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") {
        input.checked = false;
      } else {
        input.value = "";
      }
    });
    copy.querySelectorAll(".row-number").forEach(function (number) { number.textContent = String(index + 1); });
    body.appendChild(copy);
    copy.querySelector("input").focus();
  }

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var table = document.getElementById(button.dataset.addRow);
    if (!table) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () { addRow(table); });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
})();
