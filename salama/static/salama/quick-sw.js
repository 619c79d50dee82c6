/* Salama quick report: the service worker that opens the quick report page without a
   connection. Served at /incidents/quick/sw.js (not from /static/), so that its scope is the
   quick page. quick.js stores the page and its files in the cache below when it is online;
   this worker answers from that cache when the network fails or is too slow. It never
   touches a POST: the reports themselves are kept and sent by quick.js. */
"use strict";

var CACHE = "salama-quick-v1"; // also in quick.js
var SLOW_MS = 6000; // on a bad connection, the stored page after this long
var MATCH = { ignoreSearch: true, ignoreVary: true };

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("salama-quick-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function stored(request) {
  return caches.open(CACHE).then(function (cache) { return cache.match(request, MATCH); });
}

// The page: from the network (and stored again), or the stored page when the network fails
// or has not answered after SLOW_MS. A sign-in page answered in its place is shown, not stored.
function page(request) {
  return new Promise(function (resolve) {
    var done = false;
    function answer(response) {
      if (!done && response) {
        done = true;
        resolve(response);
      }
    }
    var timer = setTimeout(function () { stored(request).then(answer); }, SLOW_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      if (response.ok && !response.redirected && response.type === "basic") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request.url, copy); });
      } else if (response.type === "opaqueredirect" || response.redirected) {
        // Signed out (sent to the sign-in page): the stored page, with the name and
        // organisations of whoever was signed in, is not kept for the next person.
        caches.open(CACHE).then(function (cache) { cache.delete(request.url, MATCH); });
      }
      answer(response);
    }, function () {
      clearTimeout(timer);
      stored(request).then(function (hit) { answer(hit || Response.error()); });
    });
  });
}

// The page's files: the stored copy at once, refreshed from the network behind it.
function file(event) {
  return stored(event.request).then(function (hit) {
    var network = fetch(event.request).then(function (response) {
      if (hit && response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(event.request, copy); });
      }
      return response;
    });
    if (hit) {
      event.waitUntil(network.catch(function () {}));
      return hit;
    }
    return network;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (["script", "style", "image", "font"].indexOf(request.destination) !== -1) {
    event.respondWith(file(event));
  }
});
