/* A stand-in for Meta's JavaScript SDK (connect.facebook.net/…/sdk.js), served from loopback in tests.

   FB.init and FB.login record their options in sessionStorage (fake-fb-init, fake-fb-login); FB.login then does what Meta's Embedded Signup popup
   does when the user finishes: posts the WA_EMBEDDED_SIGNUP session info as a JSON string to the page and
   calls back with an exchangeable code, in the order and with the values the test put in
   window.__FAKE_SIGNUP__ = {code, event, waba_id, phone_number_id, order: "message-first" | "code-first"}. */
(function () {
  "use strict";
  function later(ms, fn) { window.setTimeout(fn, ms); }
  window.FB = {
    init: function (options) { window.sessionStorage.setItem("fake-fb-init", JSON.stringify(options)); },
    login: function (callback, options) {
      window.sessionStorage.setItem("fake-fb-login", JSON.stringify(options));
      var plan = window.__FAKE_SIGNUP__ || {};
      var data = {waba_id: plan.waba_id, business_id: "998877"};
      if (plan.phone_number_id) data.phone_number_id = plan.phone_number_id;
      var message = function () {
        window.postMessage(JSON.stringify({type: "WA_EMBEDDED_SIGNUP", event: plan.event || "FINISH", data: data}), "*");
      };
      var code = function () { callback({status: "connected", authResponse: {code: plan.code}}); };
      if (plan.order === "code-first") { later(50, code); later(400, message); }
      else { later(50, message); later(400, code); }
    }
  };
  if (typeof window.fbAsyncInit === "function") window.fbAsyncInit();
})();
