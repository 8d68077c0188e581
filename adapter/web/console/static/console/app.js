/* The Dashboard App: the helpdesk posts {event: "appContext", data: {conversation, contact, currentAgent}} as a
   JSON string. Only the conversation id is used; the server reads everything else back from the helpdesk. */
(function () {
  "use strict";
  var body = document.body;
  var state = {conversation: null, agent: "", view: null, timer: null};
  var $ = function (id) { return document.getElementById(id); };

  function headers() {
    var h = {"Content-Type": "application/json", "Accept": "application/json"};
    if (body.dataset.link) h["X-App-Link"] = body.dataset.link;
    if (body.dataset.csrf) h["X-CSRF-Token"] = body.dataset.csrf;
    return h;
  }

  function post(url, payload) {
    return fetch(url, {method: "POST", credentials: "same-origin", headers: headers(), body: JSON.stringify(payload)})
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.message || ("error " + response.status));
          return data;
        });
      });
  }

  function showError(text) { var e = $("error"); e.textContent = text; e.hidden = !text; }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var w = state.view.window;
    var offset = w.now * 1000 - Date.now();  // the server's clock decides, not the agent's
    var now = (Date.now() + offset) / 1000;
    var box = $("window");
    if (w.closes_at && now < w.closes_at) {
      var left = Math.floor(w.closes_at - now);
      box.className = "window-box open";
      $("window-state").textContent = "24-hour window open";
      $("countdown").textContent = "closes in " + two(Math.floor(left / 3600)) + ":" + two(Math.floor(left % 3600 / 60)) + ":" + two(left % 60);
      $("window-note").textContent = "Free-form replies can be sent until then; templates can be sent any time.";
    } else {
      box.className = "window-box closed";
      $("window-state").textContent = "24-hour window closed";
      $("countdown").textContent = "";
      $("window-note").textContent = w.last_inbound
        ? "The customer last wrote more than 24 hours ago: only an approved template can be sent."
        : "The customer has not written on WhatsApp yet: only an approved template can be sent.";
    }
  }

  function selected() { return state.view.templates[$("template").selectedIndex]; }

  function showTemplate() {
    var t = selected();
    $("preview").textContent = (t.header ? t.header + "\n" : "") + t.body;
    var fields = $("fields");
    fields.textContent = "";
    t.fields.forEach(function (f) {
      var label = document.createElement("label");
      label.textContent = f.label + " ";
      var input = document.createElement("input");
      input.name = f.key;
      input.required = true;
      label.appendChild(input);
      fields.appendChild(label);
    });
  }

  // Meta's free types, as agents read them.
  var FREE = {free_customer_service: "free (customer service window)", free_entry_point: "free (entry point, from an ad)"};

  function cell(row, text) { var td = document.createElement("td"); td.textContent = text; row.appendChild(td); }

  function renderCosts(costs) {
    var rows = $("costs").querySelector("tbody");
    rows.textContent = "";
    costs.forEach(function (m) {
      var row = document.createElement("tr");
      row.dataset.message = m.id;
      cell(row, m.content || "(attachment)");
      var categories = m.parts.map(function (p) { return p.category.replace(/_/g, " "); });
      var charged = m.parts.map(function (p) { return p.billable ? "billable" : (FREE[p.type] || "free (" + p.type.replace(/_/g, " ") + ")"); });
      var unique = function (list) { return list.filter(function (v, i) { return list.indexOf(v) === i; }).join(", "); };
      cell(row, m.parts.length ? unique(categories) : "—");
      cell(row, m.parts.length ? unique(charged) : (m.sent ? "not priced yet" : "not sent on WhatsApp"));
      rows.appendChild(row);
    });
    $("costs").hidden = costs.length === 0;
    $("no-costs").hidden = costs.length > 0;
  }

  function render(view) {
    state.view = view;
    $("waiting").hidden = true;
    $("view").hidden = false;
    $("contact").textContent = view.contact_name || "Customer";
    $("number").textContent = view.number;
    if (state.timer) window.clearInterval(state.timer);
    tick();
    state.timer = window.setInterval(tick, 1000);
    var select = $("template");
    select.textContent = "";
    view.templates.forEach(function (t) {
      var option = document.createElement("option");
      option.textContent = t.name + " (" + t.language + ", " + t.category.toLowerCase() + ")";
      select.appendChild(option);
    });
    $("no-templates").hidden = view.templates.length > 0;
    $("send-form").hidden = view.templates.length === 0;
    if (view.templates.length) showTemplate();
    renderCosts(view.costs || []);
  }

  function load(conversationId) {
    state.conversation = conversationId;
    showError("");
    post(body.dataset.conversationUrl, {conversation_id: conversationId}).then(render, function (e) {
      $("waiting").hidden = true;
      showError(e.message);
    });
  }

  // No origin check is needed: nothing privileged is taken from this message (the server verifies the id).
  window.addEventListener("message", function (event) {
    if (typeof event.data !== "string" || event.data.charAt(0) !== "{") return;
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.event !== "appContext" || !message.data || !message.data.conversation) return;
    state.agent = (message.data.currentAgent && message.data.currentAgent.name) || "";
    load(message.data.conversation.id);
  });

  $("template").addEventListener("change", showTemplate);
  $("send-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var t = selected();
    var values = {};
    Array.prototype.forEach.call($("fields").querySelectorAll("input"), function (input) { values[input.name] = input.value; });
    $("send").disabled = true;
    showError("");
    post(body.dataset.sendUrl, {conversation_id: state.conversation, name: t.name, language: t.language,
                                values: values, agent: state.agent})
      .then(function (sent) {
        var ok = $("sent");
        ok.textContent = "Sent: “" + (sent.content || t.name) + "”. It appears in the conversation and goes out on WhatsApp.";
        ok.hidden = false;
      }, function (e) { showError(e.message); })
      .then(function () { $("send").disabled = false; });
  });

  if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
})();
