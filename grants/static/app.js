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

  /* A link of the error summary puts the focus in its field, not only the page at it. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field && typeof field.focus === "function") {
      event.preventDefault();
      field.scrollIntoView({block: "center"});
      field.focus();
    }
  });

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

  function setUpTableRows(button) {
    var table = document.getElementById(button.dataset.addTableRow);
    if (!table) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () { addRow(table); });
  }


  /* Rows of a list (data-rows: posts, co-financing) added and removed in the page. Without
     JavaScript the « Ajouter » and « Retirer » buttons submit the form, which comes back with
     one row more or less; here they become plain buttons and act at once. */
  function renumber(list) {
    list.querySelectorAll("[data-row]").forEach(function (row, index) {
      row.querySelectorAll("[data-row-title]").forEach(function (title) {
        title.textContent = title.textContent.replace(/\d+|__number__/, String(index + 1));
      });
    });
  }

  function nextIndex(list, name) {
    var highest = -1;
    var pattern = new RegExp("^" + name + "-(\\d+)-");
    list.querySelectorAll("[name]").forEach(function (field) {
      var match = pattern.exec(field.name);
      if (match) {
        highest = Math.max(highest, parseInt(match[1], 10));
      }
    });
    return highest + 1;
  }

  function setUpRows(group) {
    var name = group.dataset.rows;
    var list = group.querySelector("[data-rows-list]");
    var template = group.querySelector("template[data-row-template]");
    var add = group.querySelector("[data-add-row]");
    if (!list || !template || !add) {
      return;
    }
    add.type = "button";
    list.querySelectorAll("[data-remove-row]").forEach(function (button) { button.type = "button"; });
    add.addEventListener("click", function () {
      var index = String(nextIndex(list, name));
      var html = template.innerHTML.split("__index__").join(index);
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      row.querySelectorAll("[data-remove-row]").forEach(function (button) { button.type = "button"; });
      list.appendChild(row);
      renumber(list);
      var first = row.querySelector("input, select, textarea");
      if (first) {
        first.focus();
      }
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (!button) {
        return;
      }
      event.preventDefault();
      var row = button.closest("[data-row]");
      var following = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber(list);
      var target = following ? following.querySelector("input, select, textarea") : add;
      (target || add).focus();
    });
  }

  /* A file above the size limit is refused in the browser, before a long upload for nothing:
     the message goes next to the field, the file is taken out of the selection. */
  function sizeLabel(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1).replace(".", ",") + " Mo";
  }

  function checkFileSizes(input) {
    var limit = parseInt(input.dataset.maxBytes, 10);
    var group = input.closest(".fr-upload-group");
    var messages = document.getElementById(input.id + "-size-messages");
    if (!limit || !group || !messages || !input.files) {
      return;
    }
    var kept = new DataTransfer();
    var refused = [];
    Array.prototype.forEach.call(input.files, function (file) {
      if (file.size > limit) {
        refused.push("« " + file.name + " » (" + sizeLabel(file.size) + ") dépasse la taille maximale de " +
          input.dataset.maxLabel + " : choisissez un fichier plus léger.");
      } else {
        kept.items.add(file);
      }
    });
    messages.textContent = refused.join(" ");
    messages.hidden = refused.length === 0;
    group.classList.toggle("fr-upload-group--error", refused.length > 0);
    if (refused.length) {
      input.setAttribute("aria-invalid", "true");
      input.files = kept.files;
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      checkFileSizes(event.target);
    }
  });

  /* A count of ticked boxes kept up to date (data-count-of="<id of the boxes' container>"). */
  function setUpCounter(counter) {
    var boxes = document.getElementById(counter.dataset.countOf);
    if (!boxes) {
      return;
    }
    function update() {
      var ticked = boxes.querySelectorAll("input[type=checkbox]:checked");
      var labels = Array.prototype.map.call(ticked, function (box) {
        var label = boxes.querySelector('label[for="' + box.id + '"]');
        return label ? label.textContent.trim() : box.value;
      });
      var count = counter.querySelector("[data-count]");
      var list = counter.querySelector("[data-count-list]");
      count.textContent = ticked.length + " " + (ticked.length > 1 ? counter.dataset.plural : counter.dataset.singular);
      list.textContent = labels.length ? " : " + labels.join(" ; ") : "";
    }
    boxes.addEventListener("change", update);
  }

  function setUp() {
    focusErrorSummary();
    document.querySelectorAll("[data-rows]").forEach(setUpRows);
    document.querySelectorAll("[data-count-of]").forEach(setUpCounter);
    document.querySelectorAll("[data-add-table-row]").forEach(setUpTableRows);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
