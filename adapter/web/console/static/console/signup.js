/* Sign in with Meta (Embedded Signup): launch FB.login, catch the WA_EMBEDDED_SIGNUP message, and send
   the code and the session info to the console as soon as each arrives; the server joins them. */
(function () {
  "use strict";
  var box = document.getElementById("signup");
  if (!box) return;
  var button = document.getElementById("signup-button");
  var statusLine = document.getElementById("signup-status");
  var extraOrigins = JSON.parse(box.dataset.extraOrigins || "[]");
  var finished = false;

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.className = "status-line" + (isError ? " problem" : "");
  }

  function metaOrigin(origin) {
    try {
      var url = new URL(origin);
      var host = url.hostname;
      return url.protocol === "https:" && (host === "facebook.com" || host.slice(-13) === ".facebook.com");
    } catch (e) {
      return false;
    }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": box.dataset.csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.message || ("error " + response.status));
        return data;
      });
    });
  }

  function handle(state) {
    if (finished) return;
    if (state.redirect) {
      finished = true;
      say(state.state === "connected" ? "Connected. Opening the number…" : state.message);
      window.location.assign(state.redirect);
    } else if (state.state === "failed" || state.state === "cancelled") {
      finished = true;
      say(state.message, true);
      button.disabled = false;
    }
  }

  function fail(error) { say(error.message, true); button.disabled = false; }

  var polls = 0;
  function poll() {
    if (finished || polls++ > 90) return;
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (state) { handle(state); if (!finished) window.setTimeout(poll, 1000); })
      .catch(function () { window.setTimeout(poll, 2000); });
  }

  window.addEventListener("message", function (event) {
    if (!metaOrigin(event.origin) && extraOrigins.indexOf(event.origin) < 0) return;
    var data;
    try { data = typeof event.data === "string" ? JSON.parse(event.data) : event.data; } catch (e) { return; }
    if (!data || data.type !== "WA_EMBEDDED_SIGNUP") return;
    say("Meta finished (" + data.event + "). Connecting…");
    var agent = document.getElementById("agent");
    var pin = document.getElementById("signup-pin");
    post(box.dataset.sessionUrl, {message: data, agent_bot_id: agent ? agent.value : "", pin: pin ? pin.value : ""})
      .then(function (state) { handle(state); poll(); }, fail);
  });

  function onLogin(response) {
    if (response && response.authResponse && response.authResponse.code) {
      say("Signed in with Meta. Exchanging the code…");
      post(box.dataset.codeUrl, {code: response.authResponse.code})
        .then(function (state) { handle(state); poll(); }, fail);
    } else {
      say("Sign in with Meta was closed before it finished; nothing was connected.", true);
      button.disabled = false;
    }
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("Follow the steps in Meta's window…");
    window.FB.login(onLogin, {
      config_id: box.dataset.configId,
      response_type: "code",
      override_default_response_type: true,
      extras: {setup: {}}
    });
  });

  window.fbAsyncInit = function () {
    window.FB.init({appId: box.dataset.appId, autoLogAppEvents: true, xfbml: true, version: box.dataset.graphVersion});
    button.disabled = false;
    say("Ready: Meta’s sign-in is loaded.");
  };
  var script = document.createElement("script");
  script.src = box.dataset.sdkUrl;
  script.async = true;
  script.defer = true;
  script.crossOrigin = "anonymous";
  script.onerror = function () { say("Meta's sign-in could not be loaded. Check the network, or use the manual path.", true); };
  document.head.appendChild(script);
})();
