/* Salama incident pages: small progressive enhancements. Every page works without them.
   Loaded as a static file: the Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function setValue(id, value) {
    var field = document.getElementById(id);
    if (field) {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  // "Use my location": fills latitude, longitude and precision from the phone's GPS.
  function setupLocate(root) {
    root.querySelectorAll("[data-locate]").forEach(function (button) {
      if (!("geolocation" in navigator)) return;
      var status = document.getElementById(button.dataset.status);
      button.hidden = false;
      button.addEventListener("click", function () {
        status.textContent = button.dataset.waiting;
        navigator.geolocation.getCurrentPosition(
          function (position) {
            setValue("id_latitude", position.coords.latitude.toFixed(5));
            setValue("id_longitude", position.coords.longitude.toFixed(5));
            setValue("id_coordinate_precision", "exact");
            status.textContent = button.dataset.done;
          },
          function () {
            status.textContent = button.dataset.failed;
          },
          { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
        );
      });
    });
  }

  // Category and sub-category stay consistent: choosing one narrows or sets the other.
  function setupCategory(root) {
    root.querySelectorAll("select[data-subcategory]").forEach(function (sub) {
      var form = sub.form;
      var category = form && form.querySelector("select[name='category']");
      if (!category) return;
      var groups = JSON.parse(sub.dataset.subcategory);
      var categoryOf = {};
      Object.keys(groups).forEach(function (cat) {
        groups[cat].forEach(function (code) { categoryOf[code] = cat; });
      });
      var labels = {};
      Array.prototype.forEach.call(category.options, function (option) {
        labels[option.text] = option.value;
      });
      function narrow() {
        Array.prototype.forEach.call(sub.querySelectorAll("optgroup"), function (group) {
          var hide = category.value !== "" && labels[group.label] !== category.value;
          group.hidden = hide;
          group.disabled = hide;
        });
        if (sub.value && category.value && categoryOf[sub.value] !== category.value) {
          sub.value = "";
        }
      }
      category.addEventListener("change", narrow);
      sub.addEventListener("change", function () {
        if (sub.value && categoryOf[sub.value] && category.value !== categoryOf[sub.value]) {
          category.value = categoryOf[sub.value];
          narrow();
        }
      });
      narrow();
    });
  }

  // Formsets: "Add a person" copies the empty row kept in a <template>.
  function setupFormsets(root) {
    root.querySelectorAll("[data-formset]").forEach(function (box) {
      var prefix = box.dataset.formset;
      var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      var template = box.querySelector("template");
      var rows = box.querySelector("[data-formset-rows]");
      var button = box.querySelector("[data-formset-add]");
      if (!total || !template || !rows || !button) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        var added = rows.lastElementChild;
        var first = added && added.querySelector("input:not([type=hidden]), select, textarea");
        if (first) first.focus();
      });
    });
  }

  // Named recipients only matter for TLP:RED.
  function setupMarking(root) {
    var box = root.querySelector("[data-recipients]");
    if (!box) return;
    var radios = root.querySelectorAll("input[name='marking']");
    function update() {
      var checked = root.querySelector("input[name='marking']:checked");
      box.hidden = !checked || checked.value !== "RED";
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  ready(function () {
    setupLocate(document);
    setupCategory(document);
    setupFormsets(document);
    setupMarking(document);
  });
})();
