/* Salama quick report: saves reports on the phone and sends them when it is online.
   Loaded as a static file: the Content-Security-Policy forbids inline scripts. Without this
   script the form still posts to the server as an ordinary form.

   A report is always kept in the phone's storage first and removed only after the server
   confirmed it (201, or 200 when it had arrived before: the server knows it by its UUID).
   A refused report (400, 403, 409) stays with the server's messages until it is corrected
   or removed by hand; anything else (offline, signed out, a server error) is tried again. */
(function () {
  "use strict";

  var STORE = "salama.quick.reports.v1";
  var CACHE = "salama-quick-v1"; // also in quick-sw.js
  var RETRY_MS = 60000;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function today() {
    var now = new Date();
    now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
    return now.toISOString().slice(0, 10);
  }

  // ------------------------------------------------------------------- the phone's storage

  function load() {
    try {
      var reports = JSON.parse(window.localStorage.getItem(STORE) || "[]");
      return Array.isArray(reports) ? reports : [];
    } catch (error) {
      return [];
    }
  }

  function store(reports) {
    window.localStorage.setItem(STORE, JSON.stringify(reports));
  }

  function change(id, fn) {
    // Read again before each change: another tab may have sent or added reports.
    var reports = load();
    var kept = [];
    reports.forEach(function (report) {
      if (report.id !== id) kept.push(report);
      else {
        var changed = fn(report);
        if (changed) kept.push(changed);
      }
    });
    store(kept);
  }

  function setup(root) {
    var form = root.querySelector("[data-quick-form]");
    var status = root.querySelector("[data-quick-status]");
    var note = root.querySelector("[data-quick-note]");
    var sentList = root.querySelector("[data-quick-sent]");
    var waiting = root.querySelector("[data-quick-waiting]");
    var list = root.querySelector("[data-quick-list]");
    var count = root.querySelector("[data-quick-count]");
    var sendNow = root.querySelector("[data-quick-send]");
    var correcting = root.querySelector("[data-quick-correcting]");
    var texts = JSON.parse(document.getElementById("quick-texts").textContent);
    var urls = root.dataset;
    var state = { signedOut: false, sent: [], note: "", editing: null };
    var sending = null;
    var dateField = form.elements.date;

    function freshDate() {
      // The page may have been stored days ago: its default date is the day it was stored.
      if (dateField && dateField.value === dateField.defaultValue) {
        dateField.value = today();
        dateField.defaultValue = dateField.value;
      }
    }

    // -------------------------------------------------------------------- the form's values

    function collect() {
      var data = {};
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.name === "csrfmiddlewaretoken" || field.name === "uuid") return;
        if (field.type === "checkbox") data[field.name] = field.checked;
        else data[field.name] = field.value;
      });
      return data;
    }

    function fill(data) {
      Object.keys(data).forEach(function (name) {
        var field = form.elements[name];
        if (!field || field.type === "hidden") return;
        if (field.type === "checkbox") field.checked = !!data[name];
        else field.value = data[name];
      });
      if (form.elements.category) {
        form.elements.category.dispatchEvent(new Event("change", { bubbles: true }));
        if (form.elements.subcategory) form.elements.subcategory.value = data.subcategory || "";
      }
    }

    function labelOf(name) {
      var label = form.querySelector("label[for='id_" + name + "']");
      return label ? label.textContent.replace(/[:*\s]+$/, "") : "";
    }

    function optionText(name, value) {
      var field = form.elements[name];
      if (!field || !field.options) return value || "";
      var option = Array.prototype.find.call(field.options, function (o) {
        return o.value === value;
      });
      return option ? option.text : value || "";
    }

    // --------------------------------------------------------------------------- the list

    function element(tag, text, className) {
      var node = document.createElement(tag);
      if (text) node.textContent = text;
      if (className) node.className = className;
      return node;
    }

    function say(text, link) {
      note.textContent = text || "";
      note.hidden = !text;
      if (link) {
        note.appendChild(document.createTextNode(" "));
        var a = element("a", link.text);
        a.href = link.href;
        note.appendChild(a);
      }
    }

    function render() {
      var reports = load();
      list.textContent = "";
      waiting.hidden = reports.length === 0;
      count.textContent = format(texts.waiting, { n: reports.length });
      reports.forEach(function (report) {
        list.appendChild(item(report));
      });
      sentList.textContent = "";
      state.sent.forEach(function (sent) {
        // The reference goes where the translation puts it, as a link to the draft.
        var li = element("li");
        var parts = texts.sent.split("%(ref)s");
        li.appendChild(document.createTextNode(parts[0]));
        var a = element("a", sent.reference);
        a.href = sent.url;
        li.appendChild(a);
        li.appendChild(document.createTextNode(parts.slice(1).join(sent.reference)));
        sentList.appendChild(li);
      });
      sentList.hidden = state.sent.length === 0;
      if (state.signedOut && reports.length) {
        say(texts.signed_out, { text: texts.sign_in, href: urls.login });
      } else {
        say(state.note);
      }
    }

    function item(report) {
      var data = report.data || {};
      var li = element("li", "", report.errors ? "quick-report has-error" : "quick-report");
      li.dataset.reportId = report.id;
      var summary = [data.date, optionText("country", data.country),
        optionText("subcategory", data.subcategory)].filter(Boolean).join(" · ");
      li.appendChild(element("strong", summary));
      if (data.narrative) li.appendChild(element("p", data.narrative.slice(0, 120)));
      var lang = document.documentElement.lang || undefined;
      var when = new Date(report.saved_at).toLocaleString(lang);
      li.appendChild(element("p", format(texts.saved_at, { when: when }), "help"));
      if (report.user && report.user !== urls.user) {
        li.appendChild(element("p", format(texts.other_user, { user: report.user }), "error"));
      }
      if (report.errors) {
        li.appendChild(element("p", texts.not_sent, "error"));
        var errors = element("ul", "", "errorlist");
        Object.keys(report.errors).forEach(function (field) {
          report.errors[field].forEach(function (message) {
            var label = field === "__all__" ? "" : labelOf(field) || field;
            errors.appendChild(element("li", label ? label + ": " + message : message));
          });
        });
        li.appendChild(errors);
      }
      var actions = element("div", "", "actions");
      if (report.errors) {
        var fix = element("button", texts.correct);
        fix.type = "button";
        fix.addEventListener("click", function () { correct(report.id); });
        actions.appendChild(fix);
        var full = element("a", texts.full_form, "button");
        full.href = urls.fullForm;
        actions.appendChild(full);
      }
      var remove = element("button", texts.remove);
      remove.type = "button";
      remove.addEventListener("click", function () {
        if (window.confirm(texts.remove_confirm)) {
          change(report.id, function () { return null; });
          render();
        }
      });
      actions.appendChild(remove);
      li.appendChild(actions);
      return li;
    }

    function correct(id) {
      var report = load().filter(function (r) { return r.id === id; })[0];
      if (!report) return;
      form.reset();
      fill(report.data || {});
      state.editing = id;
      correcting.textContent = texts.correcting;
      correcting.hidden = false;
      form.scrollIntoView();
      var first = form.querySelector("select, input:not([type=hidden]), textarea");
      if (first) first.focus();
    }

    // ------------------------------------------------------------------------- sending

    function json(response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) return Promise.resolve(null);
      return response.json().catch(function () { return null; });
    }

    function freshToken() {
      return fetch(urls.token, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      }).then(function (response) {
        return json(response).then(function (body) {
          if (response.ok && body && body.csrf) return body;
          if (response.status === 401 || !body) state.signedOut = true;
          return null;
        });
      });
    }

    function sendOne(report, token) {
      var body = Object.assign({}, report.data, {
        uuid: report.id,
        reported_on: report.saved_on || (report.saved_at || "").slice(0, 10),
      });
      return fetch(urls.send, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": token,
        },
        body: JSON.stringify(body),
      }).then(function (response) {
        return json(response).then(function (answer) {
          if (response.ok && answer && answer.reference) {
            change(report.id, function () { return null; });
            state.sent.push(answer);
            return true;
          }
          if (response.status === 401) {
            state.signedOut = true;
            return false;
          }
          if (answer && answer.errors && [400, 403, 409].indexOf(response.status) !== -1) {
            change(report.id, function (r) { r.errors = answer.errors; return r; });
            return true;
          }
          // A refused CSRF token (an HTML page) or a server error: keep it, try later.
          state.note = texts.retry;
          return false;
        });
      });
    }

    function sendWaiting() {
      if (sending) return sending;
      if (!navigator.onLine) {
        if (load().some(function (r) { return !r.errors; })) state.note = texts.saved;
        render();
        return Promise.resolve();
      }
      sending = freshToken().then(function (session) {
        if (!session) return;
        state.signedOut = false;
        var mine = load().filter(function (r) {
          return !r.errors && (!r.user || r.user === session.user);
        });
        // One after the other: a bad connection copes better, and a failure stops the rest.
        return mine.reduce(function (chain, report) {
          return chain.then(function (goOn) {
            return goOn === false ? false : sendOne(report, session.csrf);
          });
        }, Promise.resolve(true));
      }).catch(function () {
        // Offline, or the connection dropped: everything stays on the phone.
        if (load().some(function (r) { return !r.errors; })) state.note = texts.saved;
      }).then(function () {
        sending = null;
        var left = load().some(function (r) { return !r.errors; });
        if (state.note === texts.sending || (!left && state.note === texts.saved)) {
          state.note = left ? texts.saved : "";
        }
        render();
      });
      return sending;
    }

    // --------------------------------------------------------------------------- saving

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var report = { id: newId(), user: urls.user, saved_at: new Date().toISOString(),
        saved_on: today(), data: collect() };
      try {
        var reports = load().filter(function (r) { return r.id !== state.editing; });
        reports.push(report);
        store(reports);
      } catch (error) {
        // No storage (private mode, full): post the form as it is, online only.
        say(texts.no_storage);
        form.submit();
        return;
      }
      state.editing = null;
      correcting.hidden = true;
      form.reset();
      freshDate();
      state.note = navigator.onLine ? texts.sending : texts.saved;
      render();
      window.scrollTo(0, 0);
      if (navigator.onLine) sendWaiting();
    });

    sendNow.addEventListener("click", sendWaiting);
    window.addEventListener("online", sendWaiting);
    window.setInterval(function () {
      if (navigator.onLine && load().some(function (r) { return !r.errors; })) sendWaiting();
    }, RETRY_MS);

    freshDate();
    render();
    sendWaiting();
    keepOffline(urls);
  }

  // ------------------------------------------------------------------- the service worker

  function keepOffline(urls) {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    navigator.serviceWorker.register(urls.worker, { scope: urls.scope }).then(function () {
      if (navigator.onLine) return storePage(urls.scope);
    }).catch(function () {
      // No worker (a private window, an insecure address): the page works online only.
    });
  }

  function storePage(pageUrl) {
    // The page and the files it loads, fetched afresh now; a sign-in page answered in
    // place of the page (redirected) is not stored under the page's address.
    var files = [pageUrl];
    var nodes = "link[rel=stylesheet][href], link[rel=icon][href], script[src]";
    document.querySelectorAll(nodes).forEach(function (node) {
      files.push(node.getAttribute("href") || node.getAttribute("src"));
    });
    return caches.open(CACHE).then(function (cache) {
      return Promise.all(files.map(function (url) {
        var fresh = fetch(url, { credentials: "same-origin", cache: "no-cache" });
        return fresh.then(function (response) {
          if (response.ok && !response.redirected) return cache.put(url, response);
        }).catch(function () {});
      }));
    });
  }

  ready(function () {
    var root = document.querySelector("[data-quick]");
    if (root) setup(root);
  });
})();
