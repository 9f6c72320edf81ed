/* Committee session page: the envelope follows the amounts while a decision is typed.
   Progressive: the page shows the server's figures without it, and the server checks
   every amount again when the decision is recorded. */
(function () {
  "use strict";

  var money = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

  /* "1 234,56", "1234.5", "42 000" → cents; null when it is not an amount. */
  function cents(text) {
    var cleaned = String(text).replace(/[\s\u00a0\u202f']/g, "").replace("€", "");
    if (!/^\d+(?:[.,]\d{1,2})?$/.test(cleaned)) {
      return null;
    }
    var parts = cleaned.replace(",", ".").split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }

  function euros(value) {
    return money.format(value / 100);
  }

  var table = document.querySelector("[data-envelope]");
  if (!table) {
    return;
  }
  var proposedCell = table.querySelector("[data-envelope-proposed]");
  var remainingCell = table.querySelector("[data-envelope-remaining]");
  var proposed = parseInt(proposedCell.dataset.cents, 10);
  var remaining = parseInt(remainingCell.dataset.cents, 10);

  function update(form) {
    var preview = form.querySelector("[data-envelope-preview]");
    var chosen = form.querySelector("input[type=radio]:checked");
    var previous = parseInt(form.dataset.previousCents || "0", 10);
    var typed = 0;
    if (chosen && chosen.value === "selected") {
      var inputs = form.querySelectorAll("[data-amount]");
      for (var i = 0; i < inputs.length; i += 1) {
        /* A blank amount is the retained figure, as the server reads it. */
        var value = inputs[i].value.trim() === "" ? parseInt(inputs[i].dataset.default, 10) : cents(inputs[i].value);
        if (value === null) {
          preview.textContent = "Montant à corriger : saisissez par exemple 42 000,50.";
          return;
        }
        typed += value;
      }
    }
    var nextProposed = proposed - previous + typed;
    var nextRemaining = remaining + previous - typed;
    proposedCell.textContent = euros(nextProposed);
    remainingCell.textContent = euros(nextRemaining);
    remainingCell.classList.toggle("envelope-exceeded", nextRemaining < 0);
    preview.textContent = "Avec cette décision : programmé lors de cette séance " + euros(nextProposed) +
      ", reste disponible " + euros(nextRemaining) +
      (nextRemaining < 0 ? " : l'enveloppe serait dépassée." : ".");
  }

  var forms = document.querySelectorAll("[data-decision-form]");
  for (var f = 0; f < forms.length; f += 1) {
    (function (form) {
      form.addEventListener("input", function () { update(form); });
      form.addEventListener("change", function () { update(form); });
    })(forms[f]);
  }
})();
