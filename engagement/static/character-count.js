// Live character count for the consultation form: an enhancement only. Without it the hint
// "You can enter up to 5,000 characters" stays, and the server says by how much an answer is over.
(function () {
  "use strict";
  var form = document.querySelector("form[data-counts]");
  if (!form || !window.Intl || !Intl.PluralRules) return;
  var counts = JSON.parse(form.getAttribute("data-counts"));
  var lang = document.documentElement.lang || "en";
  var rules = new Intl.PluralRules(lang);
  var numbers = new Intl.NumberFormat(lang === "cy" ? "cy-GB" : "en-GB");

  function phrase(kind, n) {
    var forms = counts[kind];
    var category = n === 0 && forms.zero ? "zero" : rules.select(n);
    return (forms[category] || forms.other).replace("{count}", numbers.format(n));
  }

  Array.prototype.forEach.call(form.querySelectorAll("textarea[data-maxlength]"), function (area) {
    var limit = parseInt(area.getAttribute("data-maxlength"), 10);
    var hint = document.getElementById(area.id + "-info");
    if (!hint) return;
    // As GOV.UK does: the limit stays the field's description for screen readers, the live count is
    // shown to sighted users, and screen readers hear the count once typing pauses, not on every key.
    hint.classList.add("visually-hidden");
    var visible = document.createElement("div");
    visible.className = "hint character-count";
    visible.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("div");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    hint.parentNode.insertBefore(spoken, hint.nextSibling);
    hint.parentNode.insertBefore(visible, hint.nextSibling);
    var timer = null;

    function update(announce) {
      var left = limit - area.value.length;
      var text = left >= 0 ? phrase("remaining", left) : phrase("over", -left);
      visible.textContent = text;
      visible.classList.toggle("character-count-over", left < 0);
      if (announce) {
        clearTimeout(timer);
        timer = setTimeout(function () { spoken.textContent = text; }, 1000);
      }
    }
    area.addEventListener("input", function () { update(true); });
    update(false);
  });
})();
