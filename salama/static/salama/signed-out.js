// The sign-in page: whoever used this phone before is signed out (or their session ended), so
// the quick report page the service worker stored for them — with their name and their
// organisations — is forgotten. Reports still waiting to be sent stay (localStorage); they
// are only ever sent under the account that made them (quick.js).
(function () {
  "use strict";
  if (!("caches" in window)) return;
  caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("salama-quick-") === 0;
    }).map(function (name) { return caches.delete(name); }));
  });
})();
